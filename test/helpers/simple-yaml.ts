/**
 * A strict parser for the small part of YAML our compose and provisioning files use: block
 * mappings and sequences by indentation (spaces), `- ` items (also `- key: value`), plain,
 * single- and double-quoted scalars, `true`/`false`/`null`/numbers, flow lists of scalars,
 * literal block scalars as a mapping's value (`key: |` keeps one final newline, `key: |-`
 * none; for SQL), and `#` comments. Anything else (anchors, tags, folded scalars, tabs,
 * duplicate keys) is an error, so these files stay plain, and what the tests read is what
 * Grafana and Docker read.
 * (No YAML library is a dependency of the project; PyYAML agreed with this parser on every
 * file when they were written.)
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  number: number;
  /** The text of a literal block scalar this line (`key: |`) opens. */
  block?: string;
}

/** Parses `source`; throws with the line number on anything outside the subset. */
export function parseSimpleYaml(source: string): YamlValue {
  const lines: Line[] = [];
  const raws = source.split('\n');
  for (let index = 0; index < raws.length; index++) {
    const raw = raws[index]!;
    if (raw.includes('\t')) throw new Error(`line ${index + 1}: tabs are not allowed`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') continue;
    const line: Line = { indent: indentOf(text), text: text.trim(), number: index + 1 };
    const key = keyOf(line.text);
    if (key && (key.rest === '|' || key.rest === '|-')) {
      const [block, next] = literalBlock(raws, index + 1, line.indent, key.rest === '|');
      line.block = block;
      index = next - 1;
    }
    lines.push(line);
  }
  if (lines.length === 0) return null;
  const [value, next] = parseBlock(lines, 0, lines[0]!.indent);
  if (next < lines.length) throw new Error(`line ${lines[next]!.number}: unexpected indentation`);
  return value;
}

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

/**
 * The literal block scalar from raw line `start` on: the lines indented deeper than its key
 * (and blank ones), as written, less the first line's indentation; `#` is text there.
 */
function literalBlock(
  raws: string[],
  start: number,
  keyIndent: number,
  keepNewline: boolean,
): [string, number] {
  const content: string[] = [];
  let blockIndent: number | undefined;
  let i = start;
  for (; i < raws.length; i++) {
    const raw = raws[i]!;
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tabs are not allowed`);
    if (raw.trim() === '') {
      content.push('');
      continue;
    }
    const indent = indentOf(raw);
    if (indent <= keyIndent) break;
    blockIndent ??= indent;
    if (indent < blockIndent) throw new Error(`line ${i + 1}: bad indentation in a block scalar`);
    content.push(raw.slice(blockIndent).trimEnd());
  }
  // Blank lines after the block belong to no one: give them back to the caller.
  while (content.length > 0 && content.at(-1) === '') {
    content.pop();
    i--;
  }
  if (content.length === 0) return ['', i];
  return [content.join('\n') + (keepNewline ? '\n' : ''), i];
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || line[i - 1] === ' ')) {
      return line.slice(0, i);
    }
  }
  return line;
}

function parseBlock(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const first = lines[start]!;
  if (first.text === '-' || first.text.startsWith('- ')) return parseSequence(lines, start, indent);
  return parseMapping(lines, start, indent);
}

function parseSequence(lines: Line[], start: number, indent: number): [YamlValue[], number] {
  const items: YamlValue[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    if (!(line.text === '-' || line.text.startsWith('- ')))
      throw new Error(`line ${line.number}: expected "- "`);
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      const [value, next] = childBlock(lines, i, indent);
      items.push(value);
      i = next;
    } else if (keyOf(rest) !== null) {
      // "- key: value" opens a mapping whose keys sit at the column after "- ".
      const inner = indent + (line.text.length - rest.length);
      const rewritten = [...lines];
      rewritten[i] = { ...line, indent: inner, text: rest };
      const [value, next] = parseMapping(rewritten, i, inner);
      items.push(value);
      i = next;
    } else {
      items.push(scalar(rest, line.number));
      i++;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent)
    throw new Error(`line ${lines[i]!.number}: bad indentation`);
  return [items, i];
}

function parseMapping(lines: Line[], start: number, indent: number): [{ [key: string]: YamlValue }, number] {
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const key = keyOf(line.text);
    if (key === null) throw new Error(`line ${line.number}: expected "key: value"`);
    if (Object.hasOwn(map, key.key)) throw new Error(`line ${line.number}: duplicate key ${key.key}`);
    if (line.block !== undefined) {
      map[key.key] = line.block;
      i++;
    } else if (key.rest === '') {
      const [value, next] = childBlock(lines, i, indent);
      map[key.key] = value;
      i = next;
    } else {
      map[key.key] = scalar(key.rest, line.number);
      i++;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent)
    throw new Error(`line ${lines[i]!.number}: bad indentation`);
  return [map, i];
}

/** The block under line `i`: more indented, or (for a sequence value) at the same indent. */
function childBlock(lines: Line[], i: number, indent: number): [YamlValue, number] {
  const next = lines[i + 1];
  if (next === undefined || next.indent < indent) return [null, i + 1];
  if (next.indent === indent) {
    if (next.text.startsWith('- ') && keyOf(lines[i]!.text) !== null)
      return parseSequence(lines, i + 1, indent);
    return [null, i + 1];
  }
  return parseBlock(lines, i + 1, next.indent);
}

function keyOf(text: string): { key: string; rest: string } | null {
  const match = /^([A-Za-z0-9_.\-/]+|'[^']*'|"[^"]*"):(?: +(.*))?$/.exec(text);
  if (!match) return null;
  const key = match[1]!.replace(/^(['"])(.*)\1$/, '$2');
  return { key, rest: (match[2] ?? '').trim() };
}

function scalar(text: string, line: number): YamlValue {
  if (/^[&*!|>%@`]/.test(text) || text.startsWith('{')) {
    throw new Error(`line ${line}: ${text[0]} is outside the YAML subset these files use`);
  }
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${line}: unclosed flow list`);
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((part) => scalar(part.trim(), line));
  }
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new Error(`line ${line}: bad single-quoted string`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new Error(`line ${line}: bad double-quoted string`);
    }
  }
  if (/^(true|false)$/.test(text)) return text === 'true';
  if (/^(null|~)$/.test(text)) return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/: |\s#/.test(text)) throw new Error(`line ${line}: quote a plain scalar containing ": " or " #"`);
  return text;
}

/**
 * Finds and parses small JSON objects by key inside text that is not itself parseable: a
 * window of a response body (its head or tail), a stream of server-sent events, a JSON array
 * still arriving. Responses are never parsed whole; only the fragments usage lives in.
 */

/** Largest fragment parsed; usage objects are a few hundred bytes. */
const MAX_FRAGMENT_LENGTH = 16_384;

/**
 * Every object value of `"key": {...}` in `text`, in order of appearance, parsed. Fragments
 * cut by the window's edge, or not valid JSON, are skipped.
 */
export function objectsByKey(text: string, key: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const needle = `"${key}"`;
  let from = 0;
  for (;;) {
    const at = text.indexOf(needle, from);
    if (at === -1) return found;
    from = at + needle.length;
    let i = skipSpace(text, from);
    if (text[i] !== ':') continue;
    i = skipSpace(text, i + 1);
    if (text[i] !== '{') continue;
    const end = matchingBrace(text, i);
    if (end === -1) continue;
    try {
      const value: unknown = JSON.parse(text.slice(i, end + 1));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        found.push(value as Record<string, unknown>);
      }
    } catch {
      // A fragment spliced from two windows, or hostile text: not usage.
    }
    from = end + 1;
  }
}

/** Every string value of `"key": "..."` in `text`, in order of appearance. */
export function stringsByKey(text: string, key: string): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.){1,256})"`, 'g');
  for (const match of text.matchAll(pattern)) {
    try {
      found.push(JSON.parse(`"${match[1]}"`) as string);
    } catch {
      // Not a JSON string after all.
    }
  }
  return found;
}

/** A non-negative integer field of a parsed object, or undefined. */
export function count(object: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** A nested object field, or undefined. */
export function child(
  object: Record<string, unknown> | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const value = object?.[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t'))
    i++;
  return i;
}

/** Index of the `}` closing the `{` at `start`, honouring strings; -1 if cut off or too long. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  const limit = Math.min(text.length, start + MAX_FRAGMENT_LENGTH);
  for (let i = start; i < limit; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

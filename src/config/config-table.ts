import type { OptionSpec } from './option-spec.js';

/** The markers around a generated table in a page of docs/. */
export const CONFIG_TABLE_START = '<!-- config-table:start -->';
export const CONFIG_TABLE_END = '<!-- config-table:end -->';

/**
 * The markdown table of a table of option specs: one row per option, with the env vars it is
 * read from (in order of precedence; no such column when none is), its doc line and its
 * default. docs/configuration.md (the package's options), docs/composing.md (the exporter's)
 * and docs/otlp-ingest.md (the receiver's) hold one each between {@link CONFIG_TABLE_START}
 * and {@link CONFIG_TABLE_END}; `scripts/config-table.mjs` rewrites them there and a test
 * fails when a table and its specs disagree.
 */
export function renderConfigTable(specs: Record<string, OptionSpec<unknown>>): string {
  const withEnv = Object.values(specs).some((spec) => (spec.env ?? []).length > 0);
  const rows = Object.entries(specs).map(([name, spec]) =>
    row([`\`${name}\``, ...(withEnv ? [envCell(spec)] : []), spec.doc.meaning, defaultCell(spec)]),
  );
  const head = ['option', ...(withEnv ? ['env var'] : []), 'meaning', 'default'];
  return [row(head), row(head.map(() => '---')), ...rows].join('\n');
}

/** `markdown` with the part between the markers replaced by `table`. */
export function spliceConfigTable(markdown: string, table: string): string {
  const start = markdown.indexOf(CONFIG_TABLE_START);
  const end = markdown.indexOf(CONFIG_TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`no ${CONFIG_TABLE_START} ... ${CONFIG_TABLE_END} section`);
  }
  return `${markdown.slice(0, start + CONFIG_TABLE_START.length)}\n${table}\n${markdown.slice(end)}`;
}

/** What the docs show as an option's default. */
export function defaultCell(spec: OptionSpec<unknown>): string {
  if (spec.doc.default !== undefined) return spec.doc.default;
  const value = 'default' in spec ? spec.default : undefined;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return 'none';
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' || typeof value === 'boolean' ? `\`${value}\`` : JSON.stringify(value);
}

function envCell(spec: OptionSpec<unknown>): string {
  const readers = spec.env ?? [];
  if (readers.length === 0) return '—';
  return readers
    .map((r) => (r.doc === undefined ? `\`${r.name}\`` : `\`${r.name}\` ${r.doc}`))
    .join(', then ');
}

function row(cells: string[]): string {
  for (const cell of cells) {
    if (cell.includes('|') || cell.includes('\n')) throw new Error(`a table cell cannot hold ${cell}`);
  }
  return `| ${cells.join(' | ')} |`;
}

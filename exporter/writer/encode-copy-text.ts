import type { ColumnSpec } from '../../database/analytics-database.js';

/** Characters COPY's text format gives a meaning to; most values have none. */
const SPECIAL = /[\\\t\n\r]/;

/**
 * Rows as COPY's text format: one line per row, columns separated by tabs, `\N` for null,
 * backslash, tab, newline and carriage return escaped. Values are already sanitized for
 * PostgreSQL (no NUL, well-formed UTF-8), so nothing else needs care. Pure.
 */
export function encodeCopyText(columns: readonly ColumnSpec[], rows: readonly object[]): string {
  let text = '';
  for (const row of rows) {
    const values = row as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) text += '\t';
      text += encodeValue(values[columns[i]!.name]);
    }
    text += '\n';
  }
  return text;
}

function encodeValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    text = value.toString();
  } else text = JSON.stringify(value) ?? '';
  if (!SPECIAL.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../database/analytics-database.js';
import { encodeCopyText } from '../../exporter/writer/encode-copy-text.js';

const columns: ColumnSpec[] = [
  { name: 'a', type: 'text' },
  { name: 'b', type: 'integer' },
  { name: 'c', type: 'text', jsonb: true },
];

describe('encodeCopyText', () => {
  it('writes one tab-separated line per row, \\N for null and undefined', () => {
    expect(
      encodeCopyText(columns, [
        { a: 'x', b: 1, c: '{"k":1}' },
        { a: null, b: undefined, c: null },
      ]),
    ).toBe('x\t1\t{"k":1}\n\\N\t\\N\t\\N\n');
  });

  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(encodeCopyText(columns, [{ a: 'a\\b\tc\nd\re "q" \'s\' é', b: 0, c: '{"p":"\\\\"}' }])).toBe(
      'a\\\\b\\tc\\nd\\re "q" \'s\' é\t0\t{"p":"\\\\\\\\"}\n',
    );
  });

  it('writes a literal \\N text as itself, not as null', () => {
    expect(encodeCopyText([columns[0]!], [{ a: '\\N' }])).toBe('\\\\N\n');
  });

  it('writes booleans, bigints and objects as PostgreSQL reads them', () => {
    expect(encodeCopyText(columns, [{ a: true, b: 12n, c: { k: [1] } }])).toBe('true\t12\t{"k":[1]}\n');
  });
});

import { describe, expect, it } from 'vitest';
import { RecordCounter } from '../../src/usage/record-counter.js';

function count(text: string, pieceSize = text.length || 1): number | undefined {
  const counter = new RecordCounter();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += pieceSize) counter.push(bytes.subarray(i, i + pieceSize));
  return counter.result();
}

describe('RecordCounter', () => {
  const records = [
    { url: 'https://shop.example/p/1', title: 'a, b [c] {d}', nested: { list: [1, 2, { x: '"}' }] } },
    { url: 'https://shop.example/p/2', title: 'escaped \\" quote', price: 9.5 },
    'a string record',
    42,
    null,
  ];

  it.each([1, 3, 16, 1024])(
    'counts the top-level elements of a JSON array, whatever the chunks (%i bytes)',
    (size) => {
      expect(count(JSON.stringify(records, null, 2), size)).toBe(5);
    },
  );

  it.each([
    ['[]', 0],
    ['  [ ]  ', 0],
    ['[{}]', 1],
    ['[[],[],[]]', 3],
  ])('counts %j as %i', (text, expected) => {
    expect(count(text)).toBe(expected);
  });

  it('counts the non-empty lines of NDJSON, with or without a final newline', () => {
    const ndjson = records.map((r) => JSON.stringify(r)).join('\n');
    expect(count(ndjson, 7)).toBe(5);
    expect(count(`${ndjson}\n\n`, 7)).toBe(5);
  });

  it('gives no count for an array cut off, or for trailing garbage', () => {
    expect(count('[{"a":1},{"b":')).toBeUndefined();
    expect(count('[1,2] trailing')).toBeUndefined();
  });

  it('counts an empty body as no records', () => {
    expect(count('')).toBe(0);
  });
});

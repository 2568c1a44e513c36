import { describe, expect, it } from 'vitest';
import { RecordCounter } from '../../src/usage/record-counter.js';

function count(text: string | Buffer, pieceSize = text.length || 1, lines = false): number | undefined {
  const counter = new RecordCounter({ lines });
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

  it('counts the non-empty lines of a body labelled NDJSON, with or without a final newline', () => {
    const ndjson = records.map((r) => JSON.stringify(r)).join('\n');
    expect(count(ndjson, 7, true)).toBe(5);
    expect(count(`${ndjson}\n\n`, 7, true)).toBe(5);
    expect(count('{"only":1}', 7, true)).toBe(1);
  });

  it('counts the objects of NDJSON not labelled as such', () => {
    const ndjson = records
      .slice(0, 2)
      .map((r) => JSON.stringify(r))
      .join('\n');
    expect(count(`${ndjson}\n${ndjson}\n`, 5)).toBe(4);
  });

  it('counts a single top-level object (a status or an error, not a delivery) as no records', () => {
    expect(count('{"status":"running","message":"Snapshot is not ready yet, try again in 30s"}')).toBe(0);
    expect(count('{"snapshot_id":"s_abc"}', 3)).toBe(0);
  });

  it('skips a UTF-8 byte order mark, even split across chunks', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1},{"b":2}]')]);
    expect(count(body, 1)).toBe(2);
    expect(count(body)).toBe(2);
  });

  it.each([
    ['CSV', 'url,title\nhttps://a,x\nhttps://b,y\n'],
    ['text', 'Snapshot is empty'],
    ['a bare number', '42'],
    ['an object cut off', '{"a":1}\n{"b":'],
  ])('gives no count for %s', (_, text) => {
    expect(count(text, 4)).toBeUndefined();
  });

  it('gives no count for an array cut off, or for trailing garbage', () => {
    expect(count('[{"a":1},{"b":')).toBeUndefined();
    expect(count('[1,2] trailing')).toBeUndefined();
  });

  it('counts an empty body as no records', () => {
    expect(count('')).toBe(0);
  });
});

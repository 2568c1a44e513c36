import { describe, expect, it } from 'vitest';
import {
  sanitizeFinite,
  sanitizeInteger,
  sanitizeJson,
  sanitizeSize,
  sanitizeText,
  TEXT_LIMITS,
  truncateUtf8,
} from '../../database/sanitize.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const MARK = '…';

describe('TEXT_LIMITS', () => {
  it('keeps every budget under the 2,704-byte btree limit where a column is indexed', () => {
    expect(TEXT_LIMITS.indexed).toBeLessThanOrEqual(2704);
    expect(TEXT_LIMITS.short).toBeLessThanOrEqual(2704);
    expect(Object.isFrozen(TEXT_LIMITS)).toBe(true);
  });
});

describe('sanitizeText', () => {
  it('removes NUL bytes', () => {
    expect(sanitizeText('a\u0000b\u0000\u0000c', 100)).toBe('abc');
  });

  it('replaces lone surrogates with U+FFFD', () => {
    expect(sanitizeText('a\uD800b', 100)).toBe('a\uFFFDb');
    expect(sanitizeText('x\uDC00', 100)).toBe('x\uFFFD');
  });

  it('keeps well-formed surrogate pairs', () => {
    expect(sanitizeText('😀 ok', 100)).toBe('😀 ok');
  });

  it('returns null for null and undefined', () => {
    expect(sanitizeText(null, 10)).toBeNull();
    expect(sanitizeText(undefined, 10)).toBeNull();
  });

  it('turns other values into strings', () => {
    expect(sanitizeText(42, 10)).toBe('42');
    expect(sanitizeText(false, 10)).toBe('false');
  });

  it('keeps the empty string', () => {
    expect(sanitizeText('', 10)).toBe('');
  });

  it('cuts long text to the byte budget', () => {
    const result = sanitizeText('x'.repeat(5000), TEXT_LIMITS.indexed)!;
    expect(bytes(result)).toBeLessThanOrEqual(TEXT_LIMITS.indexed);
    expect(result.endsWith(MARK)).toBe(true);
  });

  it('cuts after cleaning, so a NUL-padded value that fits once cleaned is kept whole', () => {
    expect(sanitizeText(`${'a'.repeat(10)}${'\u0000'.repeat(100)}`, 10)).toBe('a'.repeat(10));
  });
});

describe('truncateUtf8', () => {
  it('returns text within the budget unchanged', () => {
    expect(truncateUtf8('hello', 5)).toBe('hello');
    expect(truncateUtf8('é'.repeat(10), 20)).toBe('é'.repeat(10));
    expect(truncateUtf8('😀😀', 8)).toBe('😀😀');
  });

  it('cuts ASCII and adds the mark within the budget', () => {
    expect(truncateUtf8('abcdefghij', 8)).toBe(`abcde${MARK}`);
  });

  it('never splits a two-byte character', () => {
    const result = truncateUtf8('é'.repeat(100), 52);
    expect(result).toBe(`${'é'.repeat(24)}${MARK}`);
    expect(bytes(result)).toBe(51);
  });

  it('never splits a surrogate pair', () => {
    const result = truncateUtf8('😀'.repeat(100), 10);
    expect(result).toBe(`😀${MARK}`);
    expect(result.isWellFormed()).toBe(true);
  });

  const samples = [
    'plain ascii text that goes on and on',
    'é'.repeat(40),
    '中文字符'.repeat(10),
    '😀'.repeat(20),
    'a😀bé中c'.repeat(8),
  ];
  const budgets = [3, 4, 5, 6, 7, 10, 17, 31, 64];

  it.each(samples.flatMap((text) => budgets.map((max) => [text, max] as const)))(
    'cuts %j to at most %i bytes on a character boundary',
    (text, max) => {
      const result = truncateUtf8(text, max);
      expect(bytes(result)).toBeLessThanOrEqual(max);
      expect(result.isWellFormed()).toBe(true);
      if (result !== text) {
        expect(result.endsWith(MARK)).toBe(true);
        expect(text.startsWith(result.slice(0, -MARK.length))).toBe(true);
      }
    },
  );

  it.each([0, 1, 2])('stays within a budget of %i bytes, smaller than the mark itself', (max) => {
    expect(bytes(truncateUtf8('abcdef', max))).toBeLessThanOrEqual(max);
  });
});

describe('sanitizeJson', () => {
  it('removes NUL bytes from keys and values, at any depth', () => {
    const json = sanitizeJson({ 'a\u0000b': 'c\u0000d', nested: [{ 'k\u0000': ['v\u0000'] }] }, 1000)!;
    expect(json).not.toContain('\\u0000');
    expect(JSON.parse(json)).toEqual({ ab: 'cd', nested: [{ k: ['v'] }] });
  });

  it('replaces lone surrogates in keys and values', () => {
    const json = sanitizeJson({ 'k\uD800': 'v\uDFFF' }, 1000)!;
    expect(JSON.parse(json)).toEqual({ 'k\uFFFD': 'v\uFFFD' });
    expect(json.isWellFormed()).toBe(true);
  });

  it('cleans flat objects and arrays of strings (the common metadata and query shapes) the same way', () => {
    const json = sanitizeJson({ q: ['a\u0000', 'b\uDC00'], flag: true, n: 1, none: null }, 1000)!;
    expect(JSON.parse(json)).toEqual({ q: ['a', 'b\uFFFD'], flag: true, n: 1, none: null });
    expect(json.isWellFormed()).toBe(true);
  });

  it('keeps text that only looks like an escape, and keys named like prototype members', () => {
    const value = Object.fromEntries([
      ['__proto__', 'x'],
      ['text', 'a literal \\u0000 and \\ud800'],
    ]);
    const json = sanitizeJson(value, 1000)!;
    expect(json).toBe(JSON.stringify(value));
    expect(Object.getOwnPropertyNames(JSON.parse(json) as object)).toEqual(['__proto__', 'text']);
  });

  it('turns NaN and Infinity into null', () => {
    expect(
      JSON.parse(
        sanitizeJson(
          { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: [Number.NEGATIVE_INFINITY], d: 1.5 },
          1000,
        )!,
      ),
    ).toEqual({
      a: null,
      b: null,
      c: [null],
      d: 1.5,
    });
  });

  it('turns bigints into strings and drops functions and undefined values', () => {
    expect(
      JSON.parse(sanitizeJson({ n: 10n, f: () => 1, u: undefined, arr: [undefined, () => 1] }, 1000)!),
    ).toEqual({
      n: '10',
      arr: [null, null],
    });
  });

  it('replaces a value over the byte budget with a marker saying so', () => {
    const value = { big: 'x'.repeat(100) };
    const json = sanitizeJson(value, 50)!;
    expect(bytes(json)).toBeLessThanOrEqual(50);
    expect(JSON.parse(json)).toEqual({ truncated: true, bytes: bytes(JSON.stringify(value)) });
  });

  it('measures the budget in bytes, not characters', () => {
    const json = sanitizeJson({ s: '中'.repeat(20) }, 40)!;
    expect(JSON.parse(json)).toMatchObject({ truncated: true });
  });

  it('returns null for null, undefined and values JSON cannot hold', () => {
    expect(sanitizeJson(null, 100)).toBeNull();
    expect(sanitizeJson(undefined, 100)).toBeNull();
    expect(sanitizeJson(() => 1, 100)).toBeNull();
  });

  it('serializes primitives', () => {
    expect(sanitizeJson('a\u0000', 100)).toBe('"a"');
    expect(sanitizeJson(3, 100)).toBe('3');
    expect(sanitizeJson(true, 100)).toBe('true');
  });

  it('cuts off deep nesting and cycles instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const json = sanitizeJson(cyclic, 10_000)!;
    expect(json).toContain('[truncated]');
    expect(() => JSON.parse(json)).not.toThrow();
  });
});

describe('sanitizeInteger', () => {
  it.each([
    [0, 0],
    [-1, -1],
    [404, 404],
    [2 ** 31 - 1, 2 ** 31 - 1],
    [-(2 ** 31), -(2 ** 31)],
    [2 ** 31, null],
    [-(2 ** 31) - 1, null],
    [1.5, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    ['200', null],
    [null, null],
    [undefined, null],
  ])('maps %j to %j', (input, expected) => {
    expect(sanitizeInteger(input)).toBe(expected);
  });

  it('rejects a bigint', () => {
    expect(sanitizeInteger(200n)).toBeNull();
  });
});

describe('sanitizeSize', () => {
  it.each([
    [0, 0],
    [1024, 1024],
    [2 ** 31, 2 ** 31],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [2 ** 53, null],
    [-1, null],
    [1.5, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    ['10', null],
    [undefined, null],
  ])('maps %j to %j', (input, expected) => {
    expect(sanitizeSize(input)).toBe(expected);
  });
});

describe('sanitizeFinite', () => {
  it.each([
    [0, 0],
    [-1.5, -1.5],
    [12.25, 12.25],
    [Number.MAX_VALUE, Number.MAX_VALUE],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    [Number.NEGATIVE_INFINITY, null],
    ['1', null],
    [null, null],
  ])('maps %j to %j', (input, expected) => {
    expect(sanitizeFinite(input)).toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_FITTED_VALUE_BYTES, queryParamsOf } from '../../exporter/query-params.js';
import { TEXT_LIMITS } from '../../database/sanitize.js';
import { REDACTED, Redactor } from '../../src/privacy/redactor.js';

const redactor = new Redactor();

function parse(query: string): { values: Record<string, string | string[]> | undefined; dropped?: number } {
  const metadata: Record<string, unknown> = {};
  const values = queryParamsOf(query, redactor, metadata);
  return metadata.query_params_dropped === undefined
    ? { values }
    : { values, dropped: metadata.query_params_dropped as number };
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

describe('queryParamsOf', () => {
  it('gives the parameters by name, repeated names as arrays, redacted', () => {
    expect(parse('?q=shoes&tag=a&tag=b&password=x')).toEqual({
      values: { q: 'shoes', tag: ['a', 'b'], password: REDACTED },
    });
  });

  it('gives nothing for an empty or missing query', () => {
    expect(parse('')).toEqual({ values: undefined });
    expect(parse('?')).toEqual({ values: undefined });
    expect(queryParamsOf(undefined, redactor, {})).toBeUndefined();
  });

  it('keeps those of an over-long query that fit, in order, within the column limit', () => {
    const filters = Array.from({ length: 40 }, (_, i) => `f${i}=${'v'.repeat(200)}`);
    const { values, dropped } = parse(['q=shoes', ...filters, 'page=2'].join('&'));
    expect(jsonBytes(values)).toBeLessThanOrEqual(TEXT_LIMITS.queryParams);
    expect(jsonBytes(values)).toBeGreaterThan(TEXT_LIMITS.queryParams - 220);
    const keys = Object.keys(values!);
    expect(keys).toEqual(['q', ...keys.slice(1, -1).map((_, i) => `f${i}`), 'page']);
    expect(keys.length - 2 + dropped!).toBe(40);
  });

  it('cuts long values and names of an over-long query, marking the cut', () => {
    const name = 'n'.repeat(1000);
    const { values, dropped } = parse(`a=${'z'.repeat(20_000)}&${name}=1`);
    expect(values).toEqual({ a: `${'z'.repeat(MAX_FITTED_VALUE_BYTES - 3)}…`, [`${'n'.repeat(253)}…`]: '1' });
    expect(dropped).toBeUndefined();
  });

  it('counts the bytes of arrays and multibyte text as the JSON has them', () => {
    const { values, dropped } = parse(Array.from({ length: 100 }, () => `t=${'€'.repeat(40)}`).join('&'));
    const bytes = jsonBytes(values);
    expect(bytes).toBeLessThanOrEqual(TEXT_LIMITS.queryParams);
    expect(bytes + jsonBytes('€'.repeat(40)) + 1).toBeGreaterThan(TEXT_LIMITS.queryParams);
    expect((values!.t as string[]).length + dropped!).toBe(100);
  });

  it('keeps a query that fits whole as it is, however long its values', () => {
    expect(parse(`q=${'y'.repeat(6000)}`)).toEqual({ values: { q: 'y'.repeat(6000) } });
  });

  it('keeps parameters named like Object.prototype members as plain data', () => {
    const { values } = parse('__proto__=1&constructor=2');
    expect(Object.keys(values!)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
  });

  it('keeps at most 100 parameters and counts the rest', () => {
    const { values, dropped } = parse(Array.from({ length: 130 }, (_, i) => `p${i}=${i}`).join('&'));
    expect(Object.keys(values!)).toHaveLength(100);
    expect(dropped).toBe(30);
  });
});

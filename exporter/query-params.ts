import type { Redactor } from '../src/privacy/redactor.js';
import { TEXT_LIMITS, truncateUtf8 } from '../database/sanitize.js';

/** Most query parameters kept per row; the rest are counted in `metadata`. */
export const MAX_QUERY_PARAMS = 100;
/** When the parameters do not all fit, each value is cut to this many bytes first. */
export const MAX_FITTED_VALUE_BYTES = 1024;
/** ... and each name to this many. */
export const MAX_FITTED_NAME_BYTES = 256;

/**
 * A request's query parameters as a JSON object (repeated names become arrays), redacted,
 * within the {@link TEXT_LIMITS.queryParams} bytes of JSON the column keeps. Past
 * {@link MAX_QUERY_PARAMS} parameters, or when the whole does not fit (a long query string),
 * parameters are kept in order while they fit, each value and name cut first (`…`), and the
 * others are counted in `metadata.query_params_dropped`.
 */
export function queryParamsOf(
  query: string | undefined,
  redactor: Redactor,
  metadata: Record<string, unknown>,
): Record<string, string | string[]> | undefined {
  if (query === undefined) return undefined;
  const raw = query.startsWith('?') ? query.slice(1) : query;
  if (raw.length === 0) return undefined;
  const redacted = redactor.redactQuery(raw);
  const params: [string, string][] = [];
  let dropped = 0;
  for (const param of new URLSearchParams(redacted)) {
    if (params.length < MAX_QUERY_PARAMS) params.push(param);
    else dropped++;
  }
  let values = grouped(params);
  // The JSON takes at most about four bytes per character of the query (an escape doubles a
  // character; a name without a value becomes `"a":"",`): shorter queries are not measured.
  if (redacted.length * 4 > TEXT_LIMITS.queryParams && jsonBytes(values) > TEXT_LIMITS.queryParams) {
    const fitted = fit(params, TEXT_LIMITS.queryParams);
    values = fitted.values;
    dropped += fitted.dropped;
  }
  if (dropped > 0) metadata.query_params_dropped = dropped;
  return values;
}

/**
 * Parameters by name. A Map, then fromEntries: names such as `__proto__`, `constructor` or
 * `toString` stay plain data (an object would find inherited members, and assignment to
 * `__proto__` re-parents).
 */
function grouped(params: readonly [string, string][]): Record<string, string | string[]> {
  const values = new Map<string, string | string[]>();
  for (const [key, value] of params) add(values, key, value);
  return Object.fromEntries(values);
}

/**
 * Keeps parameters in order, names and values cut, while their JSON stays within `maxBytes`
 * (counted as `JSON.stringify` writes it; cleaning for PostgreSQL only shortens it).
 */
function fit(
  params: readonly [string, string][],
  maxBytes: number,
): { values: Record<string, string | string[]>; dropped: number } {
  const values = new Map<string, string | string[]>();
  let bytes = 2; // {}
  let dropped = 0;
  for (const [rawKey, rawValue] of params) {
    const key = truncateUtf8(rawKey, MAX_FITTED_NAME_BYTES);
    const value = truncateUtf8(rawValue, MAX_FITTED_VALUE_BYTES);
    const existing = values.get(key);
    const valueBytes = jsonBytes(value);
    const cost =
      existing === undefined
        ? (values.size > 0 ? 1 : 0) + jsonBytes(key) + 1 + valueBytes // ,"key":"value"
        : Array.isArray(existing)
          ? 1 + valueBytes // ,"value"
          : 3 + valueBytes; // [ , ]
    if (bytes + cost > maxBytes) {
      dropped++;
      continue;
    }
    bytes += cost;
    add(values, key, value);
  }
  return { values: Object.fromEntries(values), dropped };
}

function add(values: Map<string, string | string[]>, key: string, value: string): void {
  const existing = values.get(key);
  if (existing === undefined) values.set(key, value);
  else if (Array.isArray(existing)) existing.push(value);
  else values.set(key, [existing, value]);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

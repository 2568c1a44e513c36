/**
 * Makes values safe for PostgreSQL before they join a batch, since one bad value fails the
 * whole statement: NUL bytes (rejected by `text` and `jsonb`) are removed, lone surrogates
 * (rejected by `jsonb`) replaced, text cut to a byte budget (a btree-indexed value over 2,704
 * bytes is rejected), numbers checked for finiteness and range.
 */

/** UTF-8 byte budgets per kind of column (documented in schema.sql). */
export const TEXT_LIMITS = Object.freeze({
  indexed: 1024,
  path: 2048,
  userAgent: 1024,
  errorMessage: 4096,
  queryParams: 8192,
  metadata: 16_384,
  short: 256,
});

const NUL = /\u0000/g;
const TRUNCATION_MARK = '…';

/** A string cleaned for a `text` column and cut to `maxBytes` UTF-8 bytes, or null. */
export function sanitizeText(value: unknown, maxBytes: number): string | null {
  if (value === undefined || value === null) return null;
  let text = typeof value === 'string' ? value : stringify(value);
  if (text.includes('\u0000')) text = text.replace(NUL, '');
  text = text.toWellFormed();
  return truncateUtf8(text, maxBytes);
}

function stringify(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'object':
      return JSON.stringify(value) ?? '';
    default:
      return '';
  }
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, on a character boundary, marking the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings need no measuring.
  if (text.length * 3 <= maxBytes) return text;
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const markBytes = Buffer.byteLength(TRUNCATION_MARK, 'utf8');
  // A budget too small for the mark gets a plain cut.
  const mark = maxBytes >= markBytes ? TRUNCATION_MARK : '';
  const budget = maxBytes - (mark ? markBytes : 0);
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + mark;
}

/**
 * JSON text for a `jsonb` column: keys and strings cleaned before serializing (once
 * serialized, a NUL is the six characters `\u0000` and can no longer be removed safely).
 * A value serializing to more than `maxBytes` is replaced by a marker saying so.
 */
export function sanitizeJson(value: unknown, maxBytes: number): string | null {
  if (value === undefined || value === null) return null;
  const json = (isShallow(value) && serializesClean(value)) || JSON.stringify(cleanJsonValue(value, 0));
  if (json === undefined) return null;
  if (json.length * 3 <= maxBytes || Buffer.byteLength(json, 'utf8') <= maxBytes) return json;
  return JSON.stringify({ truncated: true, bytes: Buffer.byteLength(json, 'utf8') });
}

const MAX_JSON_DEPTH = 10;

/**
 * Whether `value` is an object of primitives or arrays of primitives, as most rows' metadata
 * and query parameters are: serialized directly, it cannot be too deep, and a NUL or a lone
 * surrogate shows in the JSON as an escape.
 */
function isShallow(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'object' && v !== null) {
      if (!Array.isArray(v)) return false;
      for (const item of v) if (typeof item === 'object' && item !== null) return false;
    } else if (typeof v === 'bigint') return false;
  }
  return true;
}

/**
 * JSON of a shallow value when it needs no cleaning, else undefined. JSON.stringify writes a
 * NUL as `\u0000` and a lone surrogate as `\ud800`..`\udfff` (paired ones stay characters), so
 * their escapes are looked for; a match that is not one (an escaped backslash before such
 * text) only sends the value the slow way.
 */
function serializesClean(value: object): string | undefined {
  const json = JSON.stringify(value);
  return DIRTY_JSON.test(json) ? undefined : json;
}

const DIRTY_JSON = /\\u(?:0000|d[89a-f])/i;

function cleanJsonValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === undefined) return undefined;
  if (depth >= MAX_JSON_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => cleanJsonValue(v, depth + 1) ?? null);
  const entries: [string, unknown][] = [];
  for (const [key, v] of Object.entries(value)) {
    const cleaned = cleanJsonValue(v, depth + 1);
    if (cleaned !== undefined) entries.push([cleanString(key), cleaned]);
  }
  // fromEntries defines keys such as `__proto__` as plain data, where assignment would not.
  return Object.fromEntries(entries);
}

function cleanString(text: string): string {
  return (text.includes('\u0000') ? text.replace(NUL, '') : text).toWellFormed();
}

/** An integer within PostgreSQL's `integer` range, or null. */
export function sanitizeInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647
    ? value
    : null;
}

/** A non-negative whole number of bytes within `bigint` (and exact in JS), or null. */
export function sanitizeSize(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** A finite number, or null (NaN and Infinity would be stored and skew every aggregate). */
export function sanitizeFinite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

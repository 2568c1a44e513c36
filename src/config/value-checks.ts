import { MAX_TIMER_MILLIS } from '../support/max-timer-millis.js';

/**
 * The checks and env-text parsers option specs are made of. A check takes a value from code or
 * the config file and returns it, normalised (trimmed), or `undefined` when it is invalid; a
 * parser does the same for the text of an env var.
 */

/** A check and the words error messages use for what it accepts. */
export interface ValueKind<T> {
  check: (value: unknown) => T | undefined;
  expected: string;
}

export function checkBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function checkNonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

export function checkPositiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** A positive integer `setTimeout` honours (a longer delay fires at once). */
export function checkTimerMillis(value: unknown): number | undefined {
  const n = checkPositiveInteger(value);
  return n !== undefined && n <= MAX_TIMER_MILLIS ? n : undefined;
}

export function checkNonNegativeNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function checkRate(value: unknown): number | undefined {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : undefined;
}

/** An array of non-empty strings, each trimmed. */
export function checkStringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list = value as unknown[];
  return list.every((v) => typeof v === 'string' && v.trim().length > 0)
    ? (list as string[]).map((v) => v.trim())
    : undefined;
}

export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return allowed.includes(value as T) ? (value as T) : undefined;
}

/** `Number()` of env text, except that blank text is not 0. */
export function parseNumber(raw: string): number {
  return raw.trim() === '' ? Number.NaN : Number(raw);
}

export function parseBoolean(raw: string): boolean | undefined {
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === 'yes' || lower === 'on') return true;
  if (lower === 'false' || lower === '0' || lower === 'no' || lower === 'off') return false;
  return undefined;
}

/** A comma list, entries trimmed, empty ones skipped. */
export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** What {@link parseByteSize} accepts, as messages say it. */
export const BYTE_SIZE_TEXT = 'a positive number of bytes, or KiB, MiB, GiB';

/** A size in env text: bytes, or `KiB`, `MiB`, `GiB` (`128MiB`, `128 MiB`); a positive integer. */
export function parseByteSize(raw: string): number | undefined {
  const match = /^(\d+)\s*(kib|mib|gib)?$/i.exec(raw.trim());
  if (match === null) return undefined;
  return checkPositiveInteger(Number(match[1]) * BYTE_UNITS[(match[2] ?? '').toLowerCase()]!);
}

export const BOOLEAN: ValueKind<boolean> = { check: checkBoolean, expected: 'a boolean' };
export const NON_EMPTY_STRING: ValueKind<string> = {
  check: checkNonEmptyString,
  expected: 'a non-empty string',
};
export const POSITIVE_INTEGER: ValueKind<number> = {
  check: checkPositiveInteger,
  expected: 'a positive integer',
};
/** Delays and timeouts. */
export const TIMER_MILLIS: ValueKind<number> = {
  check: checkTimerMillis,
  expected: `an integer from 1 to ${MAX_TIMER_MILLIS}`,
};
/** Counts kept within the same 32-bit range as {@link TIMER_MILLIS} (rows, connections). */
export const BOUNDED_COUNT: ValueKind<number> = TIMER_MILLIS;
export const NON_NEGATIVE_NUMBER: ValueKind<number> = {
  check: checkNonNegativeNumber,
  expected: 'a non-negative number',
};

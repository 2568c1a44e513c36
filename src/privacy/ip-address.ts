import { isIP } from 'node:net';

/** The result of normalizing an address taken from a socket or a header. */
export interface NormalizedIp {
  /** A value PostgreSQL's `inet` accepts, or `null` when the input was not an address. */
  ip: string | null;
  /** The input as given, when it could not be used as is (kept for `metadata`). */
  raw?: string;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const LEADING_ZERO_OCTET = /(^|\.)0\d/;

/**
 * Normalizes an IP address for the `inet` columns: IPv4-mapped IPv6 becomes IPv4, brackets,
 * ports and IPv6 zone ids are removed, and anything PostgreSQL would reject (or read
 * differently, like `010.001.002.003`) becomes `null` with the raw value kept.
 */
export function normalizeIp(value: unknown): NormalizedIp {
  if (typeof value !== 'string' || value.length === 0) return { ip: null };
  // A row's client and peer are usually the same address, and so are a keep-alive client's
  // requests: the last answer is kept (results are never modified).
  if (value === lastValue) return lastResult;
  lastResult = parseIp(value);
  lastValue = value;
  return lastResult;
}

let lastValue: string | undefined;
let lastResult: NormalizedIp = { ip: null };

function parseIp(value: string): NormalizedIp {
  let candidate = value.trim();
  if (candidate.startsWith('[')) {
    // `[v6]` or `[v6]:port`, nothing else: `[::1]junk` is not an address.
    const end = candidate.indexOf(']');
    if (end === -1 || !/^(?::\d{1,5})?$/.test(candidate.slice(end + 1))) return invalid(value);
    candidate = candidate.slice(1, end);
  } else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(candidate)) {
    candidate = candidate.slice(0, candidate.lastIndexOf(':'));
  }
  const zone = candidate.indexOf('%');
  if (zone !== -1) candidate = candidate.slice(0, zone);
  const mapped = IPV4_MAPPED.exec(candidate);
  if (mapped) candidate = mapped[1]!;
  const family = isIP(candidate);
  if (family === 4 && !LEADING_ZERO_OCTET.test(candidate)) return { ip: candidate };
  if (family === 6) return { ip: candidate.toLowerCase() };
  return invalid(value);
}

/** Longest raw value kept for an address that was not one: enough to see what was sent. */
export const MAX_INVALID_IP_LENGTH = 256;

function invalid(value: string): NormalizedIp {
  return {
    ip: null,
    raw: value.length > MAX_INVALID_IP_LENGTH ? value.slice(0, MAX_INVALID_IP_LENGTH) : value,
  };
}

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
  let candidate = value.trim();
  if (candidate.startsWith('[')) {
    const end = candidate.indexOf(']');
    candidate = end === -1 ? candidate.slice(1) : candidate.slice(1, end);
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
  return { ip: null, raw: value };
}

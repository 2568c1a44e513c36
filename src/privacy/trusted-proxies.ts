import { BlockList, isIP } from 'node:net';
import { normalizeIp } from './ip-address.js';

/**
 * Which proxies in front of the app are believed when they say who the client was, as
 * Express's `trust proxy` setting: a number of hops, or addresses, CIDR ranges and the names
 * `loopback`, `private` (RFC 1918 and IPv6 unique-local), `linklocal`. Nothing is trusted by
 * default, so `X-Forwarded-For` from the internet is never taken as the client address.
 */
export type TrustedProxies = number | readonly string[];

/** Decides whether the hop `index` away from the app (0 = the socket peer) at `address` is trusted. */
export type TrustPredicate = (address: string, index: number) => boolean;

const NAMED_RANGES: Readonly<Record<string, readonly [string, number][]>> = {
  loopback: [
    ['127.0.0.0', 8],
    ['::1', 128],
  ],
  private: [
    ['10.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['fc00::', 7],
  ],
  linklocal: [
    ['169.254.0.0', 16],
    ['fe80::', 10],
  ],
};

/**
 * Checks a trusted-proxies value from code or a config file: a hop count (non-negative
 * integer) or a list of addresses, CIDR ranges and range names. `undefined` when invalid.
 */
export function checkTrustedProxies(value: unknown): TrustedProxies | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list)) return undefined;
  const entries: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string') return undefined;
    const entry = item.trim().toLowerCase();
    if (entry.length === 0) continue;
    if (!(entry in NAMED_RANGES) && parseRange(entry) === undefined) return undefined;
    entries.push(entry);
  }
  return entries;
}

/** Parses `OTEL_ANALYTICS_TRUSTED_PROXIES`: `2`, or `loopback, 10.0.0.0/8, 192.0.2.7`. */
export function parseTrustedProxies(raw: string): TrustedProxies | undefined {
  return /^\d+$/.test(raw.trim()) ? checkTrustedProxies(Number(raw)) : checkTrustedProxies(raw);
}

/** Compiles a checked value into the predicate the client-address walk asks. */
export function compileTrustedProxies(trusted: TrustedProxies): TrustPredicate {
  if (typeof trusted === 'number') return (_address, index) => index < trusted;
  if (trusted.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of trusted) {
    for (const [network, prefix] of NAMED_RANGES[entry] ?? [parseRange(entry)!]) {
      list.addSubnet(network, prefix, isIP(network) === 6 ? 'ipv6' : 'ipv4');
    }
  }
  return (address) => {
    const ip = normalizeIp(address).ip;
    if (ip === null) return false;
    return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  };
}

/** `10.0.0.0/8` → ['10.0.0.0', 8]; a bare address is its own /32 or /128. */
function parseRange(entry: string): [string, number] | undefined {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (slash === -1) return [address, max];
  const bits = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return [address, Number(bits)];
}

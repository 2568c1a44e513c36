import { createHmac } from 'node:crypto';

/**
 * Keyed pseudonyms for user ids and client addresses. A keyed HMAC rather than a plain hash:
 * user ids and IPv4 addresses are few enough that an unkeyed hash is reversed by trying them
 * all. The same key gives the same pseudonym across restarts and hosts, so per-user analytics
 * still work; without the key nobody can tell which user a pseudonym stands for.
 */

/** Prefix of pseudonymous user ids, so readers (and `forget`) can tell them from plain ones. */
export const PSEUDONYM_PREFIX = 'u_';

/** Shortest HMAC key accepted, in bytes: 128 bits. */
export const MIN_HMAC_KEY_BYTES = 16;

/**
 * The pseudonym of a user id: `u_` + 22 characters of base64url (128 bits of HMAC-SHA256),
 * short enough for an index, long enough that two users never collide in practice.
 */
export function pseudonymizeUserId(userId: string, key: string): string {
  const digest = createHmac('sha256', key).update(`user\u0000${userId}`).digest();
  return `${PSEUDONYM_PREFIX}${digest.subarray(0, 16).toString('base64url')}`;
}

/**
 * The pseudonym of an IP address, as an address: 96 bits of HMAC-SHA256 inside the IPv6
 * documentation prefix `2001:db8::/32`, which never appears in real traffic. It stays an
 * `inet`, so dashboards still group failed logins "by IP" without storing the IP.
 */
export function pseudonymizeIp(ip: string, key: string): string {
  const digest = createHmac('sha256', key).update(`ip\u0000${ip}`).digest();
  const groups = ['2001', 'db8'];
  for (let i = 0; i < 12; i += 2) groups.push(digest.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/**
 * An address with its host part cut: IPv4 to its /24 (`203.0.113.0`), IPv6 to its /48
 * (`2001:db8:1::`), the prefixes that still say which network a client came from.
 * `ip` must already be a normalized address (see `normalizeIp`).
 */
export function truncateIp(ip: string): string {
  if (ip.includes('.') && !ip.includes(':')) {
    const parts = ip.split('.');
    return `${parts[0]}.${parts[1]}.${parts[2]}.0`;
  }
  const groups = expandIpv6(ip);
  return `${groups
    .slice(0, 3)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::`;
}

/** The eight 16-bit groups of an IPv6 address, in hex, with `::` expanded. */
function expandIpv6(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const headGroups = head.length > 0 ? head.split(':') : [];
  const tailGroups = tail === undefined || tail.length === 0 ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups];
}

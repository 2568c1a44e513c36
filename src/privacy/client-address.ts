import type { TrustPredicate } from './trusted-proxies.js';

/** Most forwarded hops looked at; a longer chain from trusted proxies ends at this hop. */
export const MAX_FORWARDED_HOPS = 32;

/** Request headers as Node gives them. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The client address as the trusted proxies tell it, walking Express's way: from the socket
 * peer towards the client, each hop is believed only if the one before it is trusted, and the
 * first untrusted address is the client. `X-Forwarded-For` is read when present, else the
 * `for=` of `Forwarded` (RFC 7239). With nothing trusted it is the socket peer, whatever the
 * headers say. A hop that names no address (`unknown`, an obfuscated `_id`, garbage) is not
 * trusted, so it ends the walk and becomes the client: stored as null with its raw text, which
 * is more honest than the proxy's own address.
 */
export function resolveClientAddress(
  peer: string | undefined,
  headers: RequestHeaders,
  trust: TrustPredicate,
): string | undefined {
  if (peer === undefined || !trust(peer, 0)) return peer;
  const hops = forwardedHops(headers);
  let client = peer;
  for (let i = 0; i < hops.length; i++) {
    client = hops[i]!;
    if (!trust(client, i + 1)) return client;
  }
  return client;
}

/** The forwarded addresses nearest first (rightmost entry first), at most {@link MAX_FORWARDED_HOPS}. */
function forwardedHops(headers: RequestHeaders): string[] {
  const xff = joined(headers['x-forwarded-for']);
  if (xff !== undefined) return lastEntries(xff);
  const forwarded = joined(headers.forwarded);
  if (forwarded === undefined) return [];
  return lastEntries(forwarded).map(forwardedFor);
}

/** Several headers of one name arrive as an array (or joined by Node); they form one list. */
function joined(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

/** The last {@link MAX_FORWARDED_HOPS} comma-separated entries, nearest first, trimmed. */
function lastEntries(list: string): string[] {
  const entries: string[] = [];
  let end = list.length;
  while (entries.length < MAX_FORWARDED_HOPS) {
    const comma = list.lastIndexOf(',', end - 1);
    entries.push(list.slice(comma + 1, end).trim());
    if (comma === -1) break;
    end = comma;
  }
  return entries;
}

/**
 * The address in the `for=` parameter of one `Forwarded` element: `for=192.0.2.60`,
 * `for="[2001:db8::17]:4711"`, `For="198.51.100.17:80"`. Ports and brackets are left for
 * `normalizeIp`; `unknown`, obfuscated names and elements without `for=` come back as text
 * that is no address, so they are not trusted.
 */
function forwardedFor(element: string): string {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return element;
}

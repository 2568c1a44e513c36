import { isIP } from 'node:net';

/**
 * Whether a listen address accepts connections from this machine only: `localhost`,
 * `127.0.0.0/8`, `::1` (and `::ffff:127.x.x.x`). Anything else, `0.0.0.0` and `::` above all,
 * is reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.');
  return false;
}

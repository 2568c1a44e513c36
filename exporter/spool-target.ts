import { createHash } from 'node:crypto';

/**
 * Which database a spool's rows are for: a digest of user, host, port and database (never the
 * password), so a process adopts only rows left for the database it writes to. Every process
 * given a pool instead of a connection string shares one identity.
 */
export function spoolTarget(connectionString: string | undefined): string {
  let identity = 'supplied-pool';
  if (connectionString !== undefined) {
    try {
      const url = new URL(connectionString);
      identity = `${decodeURIComponent(url.username)}@${url.hostname}:${url.port || '5432'}${url.pathname}`;
    } catch {
      identity = 'unparsable-url';
    }
  }
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

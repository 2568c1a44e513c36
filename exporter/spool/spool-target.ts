import { createHash } from 'node:crypto';

/**
 * Which database a spool's rows are for: a digest of user, host, port and database (never the
 * password), so a process adopts only rows left for the database it writes to. Every process
 * given a pool instead of a connection string shares one identity.
 *
 * It routes, it does not authenticate: anyone who knows the connection's user, host and
 * database can compute it, and a key to make it secret would have to live where the spool
 * does. What keeps another user's rows out is that the spool reads only folders and files
 * that user could not have written (see `spool-path-problem.ts`).
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

import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { AnalyticsDatabase } from './analytics-database.js';
import { queryWithLocalTimeout } from './local-statement-timeout.js';

/**
 * A Kysely instance typed with {@link AnalyticsDatabase}, over a client handed out by
 * `withClient`/`withTransaction` (every query runs on that client, so inside its transaction;
 * ending the client stays theirs) or over a pool (the instance checks clients out itself).
 * Over a client, `statementTimeoutMillis` has the server end each statement that runs longer,
 * set for that statement's own transaction ({@link queryWithLocalTimeout}: no round trip of
 * its own, and nothing left on the session for a pooler to pass on).
 *
 * ```ts
 * await withClient(url, async (client) => {
 *   const db = createKysely({ client });
 *   return db.selectFrom('analytics_schema_version').select('version').execute();
 * });
 * ```
 */
export function createKysely(
  over: { client: pg.ClientBase; statementTimeoutMillis?: number } | { pool: PostgresPool },
): Kysely<AnalyticsDatabase> {
  return new Kysely<AnalyticsDatabase>({
    dialect: new PostgresDialect({ pool: 'pool' in over ? over.pool : singleClientPool(over) }),
  });
}

/** The part of a pool Kysely uses, always lending the same client and never closing it. */
function singleClientPool({
  client,
  statementTimeoutMillis,
}: {
  client: pg.ClientBase;
  statementTimeoutMillis?: number;
}): PostgresPool {
  const lent: PostgresPoolClient = {
    query:
      statementTimeoutMillis === undefined
        ? client.query.bind(client)
        : (((text: string, values: readonly unknown[]) =>
            queryWithLocalTimeout(
              client,
              text,
              values,
              statementTimeoutMillis,
            )) as unknown as PostgresPoolClient['query']),
    release: () => {},
  };
  return { connect: () => Promise.resolve(lent), end: () => Promise.resolve(), options: {} };
}

import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { AnalyticsDatabase } from './analytics-database.js';

/**
 * A Kysely instance typed with {@link AnalyticsDatabase}, over a client handed out by
 * `withClient`/`withTransaction` (every query runs on that client, so inside its transaction;
 * ending the client stays theirs) or over a pool (the instance checks clients out itself).
 *
 * ```ts
 * await withClient(url, async (client) => {
 *   const db = createKysely({ client });
 *   return db.selectFrom('analytics_schema_version').select('version').execute();
 * });
 * ```
 */
export function createKysely(
  over: { client: pg.ClientBase } | { pool: PostgresPool },
): Kysely<AnalyticsDatabase> {
  return new Kysely<AnalyticsDatabase>({
    dialect: new PostgresDialect({ pool: 'pool' in over ? over.pool : singleClientPool(over.client) }),
  });
}

/** The part of a pool Kysely uses, always lending the same client and never closing it. */
function singleClientPool(client: pg.ClientBase): PostgresPool {
  const lent: PostgresPoolClient = {
    query: client.query.bind(client),
    release: () => {},
  };
  return { connect: () => Promise.resolve(lent), end: () => Promise.resolve(), options: {} };
}

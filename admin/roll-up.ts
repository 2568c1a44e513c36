import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AnalyticsDatabase, TableName } from '../database/analytics-database.js';
import { createKysely } from '../database/create-kysely.js';
import { withClient } from '../database/with-client.js';

/** What {@link rollUp} added to the hourly rollups from one log table. */
export interface RolledUp {
  table: TableName;
  /**
   * Rows added; `null` when a writer of the table held its transaction open past the wait, so
   * its rows (and those after) are left for the next run.
   */
  rows: number | null;
}

/**
 * Adds the rows written since the last run to the hourly rollups, where they are kept
 * incrementally (a distributed layout on Citus, whose log tables may carry no trigger: see
 * migrations/citus/rollups.sql). Each row is added exactly once, whenever and however often it
 * runs; `otel-pg-analytics partitions` runs it too. Returns `[]` where the database has no
 * incremental rollups (single-node PostgreSQL: triggers keep them as rows are written). Needs
 * the owner role.
 *
 * ```ts
 * setInterval(() => void rollUp(url).catch(report), 60_000).unref();
 * ```
 */
export async function rollUp(connectionString: string): Promise<RolledUp[]> {
  return withClient({ connectionString, applicationName: 'otel-pg-analytics roll-up' }, (client) =>
    rollUpWith(createKysely({ client })),
  );
}

/** {@link rollUp} over a connection already open (outside a transaction). */
export async function rollUpWith(db: Kysely<AnalyticsDatabase>): Promise<RolledUp[]> {
  const present = await sql<{ present: boolean }>`
    select pg_catalog.to_regproc('analytics_roll_up') is not null as present`.execute(db);
  if (!present.rows[0]?.present) return [];
  const { rows } = await sql<{ log_table: TableName; rows: string | null }>`
    select log_table, rows from analytics_roll_up()`.execute(db);
  return rows.map((row) => ({ table: row.log_table, rows: row.rows === null ? null : Number(row.rows) }));
}

/**
 * For a transaction about to delete or update rows of the log tables: where rollups are kept
 * incrementally, locks their watermarks (in the order `analytics_roll_up()` takes them, so
 * neither waits on the other in a circle) and returns true; then the rows it changes that were
 * rolled up already must go through {@link adjustRollups}, while rows written after are rolled
 * up as they will be by then. Call it before choosing the rows. False where triggers keep the
 * rollups (nothing to do).
 */
export async function lockRollupWatermarks(db: Kysely<AnalyticsDatabase>): Promise<boolean> {
  const present = await sql<{ present: boolean }>`
    select pg_catalog.to_regclass('analytics_rollup_progress') is not null as present`.execute(db);
  if (!present.rows[0]?.present) return false;
  await sql`select log_table from analytics_rollup_progress order by log_table for update`.execute(db);
  return true;
}

/**
 * Takes the rows of `table` that `where` picks out of the hourly rollups (`sign` -1, before
 * deleting or updating them) or puts them back with their new values (+1, after an update);
 * only those rolled up already. Inside the transaction that changes them, after
 * {@link lockRollupWatermarks}. Returns the rows taken out or put back.
 */
export async function adjustRollups(
  db: Kysely<AnalyticsDatabase>,
  table: TableName,
  sign: -1 | 1,
  where: RawBuilder<boolean>,
): Promise<number> {
  // The rows' ids and times (their primary key) are gathered where they are, and handed over whole.
  const { rows } = await sql<{ n: string }>`
    select analytics_rollup_adjust(${table}, ${sign}, picked.ids, picked.times) as n
    from (select array_agg(id) as ids, array_agg(time) as times from ${sql.table(table)} where ${where}) picked`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

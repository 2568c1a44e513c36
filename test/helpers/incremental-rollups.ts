import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../admin/migrate.js';
import { rollUp } from '../../admin/roll-up.js';
import type { Queryable } from './rollup-comparisons.js';

/** migrations/citus/rollups.sql: the incremental rollups' table and functions. */
export function readRollupsSql(): string {
  return readFileSync(path.join(packageRoot(), 'migrations/citus/rollups.sql'), 'utf8');
}

/** Drops schema.sql's rollup triggers from the three log tables of the current schema. */
export const DROP_ROLLUP_TRIGGERS = `
  do $$
  declare
    r record;
  begin
    for r in
      select t.tgname, t.tgrelid::regclass as rel
      from pg_trigger t join pg_proc p on p.oid = t.tgfoid
      where not t.tgisinternal and p.pronamespace = current_schema()::regnamespace
        and p.proname in ('analytics_roll_up_api', 'analytics_roll_up_auth', 'analytics_roll_up_external')
    loop
      execute format('drop trigger %I on %s', r.tgname, r.rel);
    end loop;
  end
  $$`;

/**
 * Turns a database of schema.sql into one whose rollups are kept incrementally, as the
 * distributed layout keeps them: drops the rollup triggers and applies rollups.sql (watermarks
 * at 0: for tables with no rows rolled up yet).
 */
export async function useIncrementalRollups(db: Queryable): Promise<void> {
  await db.query(DROP_ROLLUP_TRIGGERS);
  await db.query(readRollupsSql());
}

/** The watermarks, by log table. */
export async function watermarks(db: Queryable): Promise<Record<string, number>> {
  const rows = await db.query<{ log_table: string; to: string }>(
    'select log_table, rolled_up_to::text as to from analytics_rollup_progress order by 1',
  );
  return Object.fromEntries(rows.map((row) => [row.log_table, Number(row.to)]));
}

/** Rows per log table. */
export async function rowCounts(db: Queryable): Promise<Record<string, number>> {
  const [row] = await db.query<Record<string, number>>(`
    select (select count(*)::int from api_access_log) as api_access_log,
           (select count(*)::int from authentication_log) as authentication_log,
           (select count(*)::int from external_api_call_log) as external_api_call_log`);
  return row!;
}

/** {@link rollUp}'s result as `{ table: rows }`. */
export async function rolledUp(url: string): Promise<Record<string, number | null>> {
  return Object.fromEntries((await rollUp(url)).map(({ table, rows }) => [table, rows]));
}

/** Resolves once a session of `applicationName` waits for a lock. */
export async function lockWaitOf(db: Queryable, applicationName: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await db.query<{ waiting: boolean }>(
      `select exists (select from pg_locks l join pg_stat_activity a using (pid)
                      where not l.granted and a.application_name = $1) as waiting`,
      [applicationName],
    );
    if (row!.waiting) return;
    await sleep(25);
  }
  throw new Error(`${applicationName} never waited for a lock`);
}

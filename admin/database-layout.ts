import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';

/**
 * Where the log tables live: `single`, tables of one PostgreSQL (the rollups kept by
 * triggers); `distributed`, the three log tables hash-distributed by trace_id over the workers
 * of a Citus coordinator (the rollups kept from a watermark by `analytics_roll_up()`).
 */
export type DatabaseLayout = 'single' | 'distributed';

/** What `migrate` is asked for: a layout, or `auto` (distributed on a Citus coordinator). */
export type LayoutOption = 'auto' | DatabaseLayout;

/** The accepted {@link LayoutOption} values, in the order the CLI's help lists them. */
export const LAYOUT_OPTIONS: readonly LayoutOption[] = ['auto', 'single', 'distributed'];

/** Whether `value` is a {@link LayoutOption}. */
export function isLayoutOption(value: unknown): value is LayoutOption {
  return (LAYOUT_OPTIONS as readonly unknown[]).includes(value);
}

/** The role of this database in a Citus cluster, or `none` without the citus extension. */
export type CitusRole = 'none' | 'coordinator' | 'worker';

/** Whether the database has the citus extension and, if so, whether it is the coordinator. */
export async function citusRole(db: Kysely<AnalyticsDatabase>): Promise<CitusRole> {
  const extension = await sql<{ present: boolean }>`
    select exists (select from pg_catalog.pg_extension where extname = 'citus') as present`.execute(db);
  if (!extension.rows[0]?.present) return 'none';
  const coordinator = await sql<{ is: boolean }>`select pg_catalog.citus_is_coordinator() as is`.execute(db);
  return coordinator.rows[0]?.is ? 'coordinator' : 'worker';
}

/**
 * The layout the database has: `distributed` when the three log tables (as the search_path
 * finds them) are Citus distributed tables, `single` otherwise (also when they do not exist).
 */
export async function databaseLayout(db: Kysely<AnalyticsDatabase>): Promise<DatabaseLayout> {
  if ((await citusRole(db)) === 'none') return 'single';
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pg_catalog.pg_dist_partition
    where logicalrelid in (pg_catalog.to_regclass('api_access_log'), pg_catalog.to_regclass('authentication_log'),
      pg_catalog.to_regclass('external_api_call_log'))`.execute(db);
  return rows[0]?.n === 3 ? 'distributed' : 'single';
}

/**
 * The layout `migrate` applies for `option`: `auto` is `distributed` on a Citus coordinator
 * and `single` elsewhere (a Citus worker included). Throws when the database cannot have the
 * layout asked for: `distributed` without Citus or on a worker, `single` once distributed.
 */
export async function chooseLayout(
  db: Kysely<AnalyticsDatabase>,
  option: LayoutOption,
): Promise<DatabaseLayout> {
  const role = await citusRole(db);
  if (option === 'distributed' && role !== 'coordinator') {
    throw new Error(
      role === 'none'
        ? "layout 'distributed' needs a Citus coordinator, and this database has no citus extension (CREATE EXTENSION citus on a coordinator with workers; docs/citus.md)"
        : "layout 'distributed' needs the Citus coordinator, and this database is a Citus worker: migrate through the coordinator",
    );
  }
  if (option === 'single' && (await databaseLayout(db)) === 'distributed') {
    throw new Error(
      "layout 'single' cannot be applied: the log tables are already distributed by Citus (migrate undoes no distribution; undistribute_table() would)",
    );
  }
  if (option !== 'auto') return option;
  return role === 'coordinator' ? 'distributed' : 'single';
}

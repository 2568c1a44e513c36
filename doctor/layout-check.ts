import { sql, type Kysely } from 'kysely';
import { citusRole, type DatabaseLayout } from '../admin/database-layout.js';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import type { DoctorCheck } from './doctor-check.js';
import { MIGRATE_FIX } from './migrate-fix.js';
import type { CheckOutcome } from './run-check.js';

/** The log tables, which the distributed layout spreads over the workers. */
const LOG_TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'] as const;

/**
 * The first id a Citus worker draws for a bigint identity column: each node draws from a range
 * of its own, `group id << 48` up. Ids at or above it were written through a worker.
 */
export const WORKER_ID_FLOOR = 2n ** 48n;

/** What the layout check found, for the rollups check. */
export interface LayoutFound {
  layout: DatabaseLayout;
  /** Log tables whose rollup triggers are gone: their rollups are kept by `analytics_roll_up()`. */
  withoutTriggers: string[];
  /** Connected to a Citus worker, which has the distributed tables but not the coordinator's local ones. */
  onWorker: boolean;
}

/**
 * Which layout the tables have: `single` (local tables of one PostgreSQL, or of a Citus
 * coordinator that was told `--layout single`) or `distributed` (the three log tables
 * hash-distributed by trace_id over the workers of a Citus coordinator, co-located). Warns about
 * a distribution other than `migrate`'s, a connection to a Citus worker, and rows written
 * through a worker (ids of a worker's range: the rollups' watermark never reaches them).
 */
export async function layoutCheck(db: Kysely<AnalyticsDatabase>): Promise<CheckOutcome<LayoutFound>> {
  const withoutTriggers = await tablesWithoutRollupTriggers(db);
  const role = await citusRole(db);
  if (role === 'none') {
    return {
      checks: [
        {
          check: 'layout',
          status: 'ok',
          message: `single PostgreSQL: the log tables are local, ${rollupsKeptBy(withoutTriggers)}`,
        },
      ],
      value: { layout: 'single', withoutTriggers, onWorker: false },
    };
  }
  const { rows } = await sql<{
    table_name: string;
    method: string | null;
    column_name: string | null;
    colocation: number | null;
    shards: number;
    nodes: string[] | null;
  }>`
    select t.name as table_name, p.partmethod as method,
           case when p.partkey is not null then pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) end
             as column_name,
           p.colocationid as colocation,
           (select count(*)::int from pg_catalog.pg_dist_shard s where s.logicalrelid = p.logicalrelid) as shards,
           (select array_agg(distinct n.nodename || ':' || n.nodeport order by n.nodename || ':' || n.nodeport)
            from pg_catalog.pg_dist_shard s
            join pg_catalog.pg_dist_placement pl on pl.shardid = s.shardid
            join pg_catalog.pg_dist_node n on n.groupid = pl.groupid and n.noderole = 'primary'
            where s.logicalrelid = p.logicalrelid) as nodes
    from unnest(${[...LOG_TABLES]}::text[]) with ordinality as t(name, i)
    left join pg_catalog.pg_dist_partition p on p.logicalrelid = pg_catalog.to_regclass(t.name)
    order by t.i`.execute(db);
  const distributed = rows.filter((row) => row.method !== null);
  const where = role === 'worker' ? 'a Citus worker' : 'a Citus coordinator';
  if (distributed.length === 0) {
    return {
      checks: [
        {
          check: 'layout',
          status: role === 'worker' ? 'warn' : 'ok',
          message: `single, on ${where}: the log tables are local tables, ${rollupsKeptBy(withoutTriggers)}${role === 'coordinator' ? ' (`otel-pg-analytics migrate` distributes them unless given --layout single)' : ''}`,
          ...(role === 'worker' && { fix: 'connect to the Citus coordinator instead' }),
        },
      ],
      value: { layout: 'single', withoutTriggers, onWorker: role === 'worker' },
    };
  }
  const expected = (row: (typeof rows)[number]) =>
    row.method === 'h' && row.column_name === 'trace_id' && row.colocation === rows[0]!.colocation;
  if (distributed.length < rows.length || !rows.every(expected)) {
    const found = rows.map((row) =>
      row.method === null
        ? `${row.table_name} local`
        : `${row.table_name} ${row.method === 'h' ? 'hash' : `method ${row.method}`}-distributed by ${row.column_name ?? 'nothing'} (colocation ${row.colocation})`,
    );
    return {
      checks: [
        {
          check: 'layout',
          status: 'warn',
          message: `not the distributed layout of \`migrate\` (the three log tables hash-distributed by trace_id, co-located): ${found.join('; ')}`,
          fix: `${MIGRATE_FIX} on the coordinator; a table distributed otherwise needs undistribute_table() first`,
        },
      ],
      value: { layout: 'single', withoutTriggers, onWorker: role === 'worker' },
    };
  }
  const nodes = [...new Set(rows.flatMap((row) => row.nodes ?? []))].sort();
  const checks: DoctorCheck[] = [
    {
      check: 'layout',
      status: role === 'worker' ? 'warn' : 'ok',
      message: `distributed on ${where}: ${LOG_TABLES.join(', ')} hash-distributed by trace_id and co-located, ${rows[0]!.shards} shards each, on ${nodes.length} ${nodes.length === 1 ? 'node' : 'nodes'} (${nodes.join(', ')})`,
      ...(role === 'worker' && {
        fix: 'connect apps, ingest and doctor to the coordinator: rows written through a worker get ids the rollups never reach',
      }),
    },
  ];
  const throughWorkers = await tablesWithWorkerIds(db);
  if (throughWorkers.length > 0) {
    checks.push({
      check: 'layout',
      status: 'warn',
      message: `${throughWorkers.join(', ')} ${throughWorkers.length === 1 ? 'has' : 'have'} rows written through a worker (ids from ${WORKER_ID_FLOOR}, a worker's range): the hourly rollups never count them`,
      fix: 'write through the coordinator only (apps, ingest); the long-range panels miss those rows',
    });
  }
  return { checks, value: { layout: 'distributed', withoutTriggers, onWorker: role === 'worker' } };
}

function rollupsKeptBy(withoutTriggers: string[]): string {
  if (withoutTriggers.length === 0) return 'their hourly rollups kept by triggers';
  if (withoutTriggers.length === LOG_TABLES.length) return 'their hourly rollups kept by analytics_roll_up()';
  return `the hourly rollups of ${withoutTriggers.join(', ')} kept by analytics_roll_up(), the others' by triggers`;
}

/** Log tables (of those that exist) with no enabled trigger calling a rollup trigger function. */
async function tablesWithoutRollupTriggers(db: Kysely<AnalyticsDatabase>): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select t.name as table_name
    from unnest(${[...LOG_TABLES]}::text[]) with ordinality as t(name, i)
    where pg_catalog.to_regclass(t.name) is not null and not exists (
      select from pg_catalog.pg_trigger g join pg_catalog.pg_proc p on p.oid = g.tgfoid
      where g.tgrelid = pg_catalog.to_regclass(t.name) and not g.tgisinternal and g.tgenabled <> 'D'
        and p.proname in ('analytics_roll_up_api', 'analytics_roll_up_auth', 'analytics_roll_up_external'))
    order by t.i`.execute(db);
  return rows.map((row) => row.table_name);
}

/**
 * Log tables with a row of a worker's id range (those the connected role may read). `limit 1`
 * goes to every shard, so each reads the BRIN index on id and stops at the first row.
 */
async function tablesWithWorkerIds(db: Kysely<AnalyticsDatabase>): Promise<string[]> {
  const found: string[] = [];
  for (const table of LOG_TABLES) {
    const readable = await sql<{ readable: boolean }>`
      select has_table_privilege(pg_catalog.to_regclass(${table}), 'SELECT') as readable`.execute(db);
    if (!readable.rows[0]?.readable) continue;
    const { rows } = await sql`
      select 1 from ${sql.table(table)} where id >= ${WORKER_ID_FLOOR.toString()}::bigint limit 1`.execute(
      db,
    );
    if (rows.length > 0) found.push(table);
  }
  return found;
}

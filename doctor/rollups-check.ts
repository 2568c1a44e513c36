import { sql, type Kysely } from 'kysely';
import { DEFAULT_READER_ROLE } from '../admin/migrate-roles.js';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import type { DoctorSession } from './connection-check.js';
import { WORKER_ID_FLOOR, type LayoutFound } from './layout-check.js';
import { MIGRATE_FIX } from './migrate-fix.js';
import type { CheckOutcome } from './run-check.js';

/** A row this long in the log tables but not in the rollups means the rollup has not run. */
const ROLLUP_LAG_WARN_MILLIS = 15 * 60_000;

/** Past this many ids above a watermark, the rows are not counted (the count would scan them all). */
const COUNT_CAP = 1_000_000;

const UPKEEP_FIX =
  "schedule `otel-pg-analytics partitions` every few minutes as the owner, or on the coordinator `select cron.schedule('analytics-roll-up', '* * * * *', 'select * from analytics_roll_up()')` (pg_cron); docs/citus.md";

/**
 * How far behind the rows the hourly rollups are where `analytics_roll_up()` keeps them (the
 * distributed layout, or log tables without their triggers): the rows above each table's
 * watermark in `analytics_rollup_progress`, and when the oldest of them is from. Warns when a
 * row older than 15 minutes waits (the upkeep has not run for a while: the dashboards' long
 * ranges miss it) or when too many wait to count. A role that may not read the watermarks is
 * asked to run as the reader.
 */
export async function rollupsCheck(
  db: Kysely<AnalyticsDatabase>,
  session: DoctorSession,
  layout: LayoutFound,
): Promise<CheckOutcome> {
  const tables = layout.withoutTriggers;
  const access = await sql<{ present: boolean; readable: boolean }>`
    select pg_catalog.to_regclass('analytics_rollup_progress') is not null as present,
           coalesce(has_table_privilege(pg_catalog.to_regclass('analytics_rollup_progress'), 'SELECT'), false)
             as readable`.execute(db);
  if (!access.rows[0]?.present) {
    return {
      checks: [
        {
          check: 'rollups',
          status: 'fail',
          message: `${tables.join(', ')} ${tables.length === 1 ? 'has' : 'have'} no rollup trigger and there is no analytics_rollup_progress: nothing keeps their hourly rollups`,
          fix: MIGRATE_FIX,
        },
      ],
    };
  }
  if (!access.rows[0].readable) {
    return {
      checks: [
        {
          check: 'rollups',
          status: 'warn',
          message: `cannot read the rollup watermarks as ${session.role}: run doctor with the reader role`,
          fix: `run doctor again as the reader role from \`otel-pg-analytics migrate --roles\` (${DEFAULT_READER_ROLE}, or a login role granted it) or the owner`,
        },
      ],
    };
  }
  const waiting: { table: string; rows: number | undefined; oldest: Date | null; ids: number }[] = [];
  for (const table of tables) {
    const { rows: marks } = await sql<{ rolled_up_to: string | null; last_id: string | null }>`
      with s as (select pg_catalog.pg_get_serial_sequence(${table}, 'id')::regclass as seq)
      select (select p.rolled_up_to::text from analytics_rollup_progress p where p.log_table = ${table}) as rolled_up_to,
             case when has_sequence_privilege(s.seq, 'SELECT') or has_sequence_privilege(s.seq, 'USAGE')
                  then coalesce(pg_catalog.pg_sequence_last_value(s.seq), 0)::text end as last_id
      from s`.execute(db);
    const mark = marks[0]?.rolled_up_to ?? null;
    if (mark === null) {
      return {
        checks: [
          {
            check: 'rollups',
            status: 'fail',
            message: `no watermark for ${table} in analytics_rollup_progress: its rows never reach the rollups`,
            fix: MIGRATE_FIX,
          },
        ],
      };
    }
    const ids = marks[0]?.last_id == null ? undefined : Number(BigInt(marks[0].last_id) - BigInt(mark));
    if (ids !== undefined && ids <= 0) continue;
    if (ids !== undefined && ids > COUNT_CAP) {
      waiting.push({ table, rows: undefined, oldest: null, ids });
      continue;
    }
    const { rows } = await sql<{ rows: number; oldest: Date | null }>`
      select count(*)::float8 as rows, min(time) as oldest from ${sql.table(table)}
      where id > ${mark}::bigint and id < ${WORKER_ID_FLOOR.toString()}::bigint`.execute(db);
    if (rows[0]!.rows > 0)
      waiting.push({ table, rows: rows[0]!.rows, oldest: rows[0]!.oldest, ids: ids ?? 0 });
  }
  const by = 'analytics_roll_up()';
  if (waiting.length === 0) {
    return { checks: [{ check: 'rollups', status: 'ok', message: `kept by ${by}: no row waits for it` }] };
  }
  const uncounted = waiting.filter((w) => w.rows === undefined);
  if (uncounted.length > 0) {
    return {
      checks: [
        {
          check: 'rollups',
          status: 'warn',
          message: `kept by ${by}, which has not run for a while: ${uncounted.map((w) => `${w.table} ${w.ids} ids`).join(', ')} above the watermark (more than ${COUNT_CAP} rows to count); the dashboards' long ranges miss them`,
          fix: UPKEEP_FIX,
        },
      ],
    };
  }
  const total = waiting.reduce((sum, w) => sum + w.rows!, 0);
  const oldest = Math.min(...waiting.map((w) => w.oldest?.getTime() ?? Date.now()));
  const ageMillis = Date.now() - oldest;
  const stale = ageMillis > ROLLUP_LAG_WARN_MILLIS;
  const counts = waiting.map((w) => `${w.table} ${w.rows}`).join(', ');
  return {
    checks: [
      {
        check: 'rollups',
        status: stale ? 'warn' : 'ok',
        message: `kept by ${by}: ${total} ${total === 1 ? 'row waits' : 'rows wait'} for it (${counts}), the oldest from ${formatAge(ageMillis)} ago${stale ? ": it has not run for a while, and the dashboards' long ranges miss them" : ''}`,
        ...(stale && { fix: UPKEEP_FIX }),
      },
    ],
  };
}

function formatAge(millis: number): string {
  const minutes = Math.max(0, Math.round(millis / 60_000));
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

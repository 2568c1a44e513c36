import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { DEFAULT_READER_ROLE } from '../admin/migrate-roles.js';
import type { DoctorSession } from './connection-check.js';
import { pipelineHealth, type InstanceSnapshot } from './pipeline-health.js';
import type { CheckOutcome } from './run-check.js';

/** The time spans the pipeline check reads and judges by. */
export interface PipelineCheckOptions {
  /** Growth of dropped and refused rows is judged over this window. */
  windowMillis: number;
  /** A process silent for longer than this has stopped reporting. */
  staleAfterMillis: number;
  /** Processes that reported within this long are judged. */
  lookbackMillis: number;
}

/**
 * Recent health of every exporter process, from its snapshots in `analytics_pipeline_stats`
 * (judged by {@link pipelineHealth}); a role that may not read them is asked to run as the
 * reader.
 */
export async function pipelineCheck(
  db: Kysely<AnalyticsDatabase>,
  session: DoctorSession,
  { windowMillis, staleAfterMillis, lookbackMillis }: PipelineCheckOptions,
): Promise<CheckOutcome> {
  const readable = await sql<{ readable: boolean; insertable: boolean }>`
    select has_table_privilege(to_regclass('analytics_pipeline_stats'), 'SELECT') as readable,
           has_table_privilege(to_regclass('analytics_pipeline_stats'), 'INSERT') as insertable`.execute(db);
  if (!readable.rows[0]?.readable) {
    // The app's own role may only insert: not being able to read is right for it, not a failure.
    return {
      checks: [
        {
          check: 'pipeline',
          status: 'warn',
          message: `cannot read pipeline stats as ${session.role}${readable.rows[0]?.insertable ? ' (INSERT-only)' : ''}: run doctor with the reader role`,
          fix: `run doctor again as the reader role from \`otel-pg-analytics migrate --roles\` (${DEFAULT_READER_ROLE}, or a login role granted it) or the owner`,
        },
      ],
    };
  }
  // Counters are cumulative per process, so growth over the window is the latest snapshot
  // minus the last one before the window; a process that started within the window grew
  // from nothing; one without a snapshot before the window (though it started earlier) is
  // measured from its first snapshot in the window.
  const { rows } = await sql<{
    instance_id: string;
    service_name: string | null;
    final: boolean;
    age_millis: number;
    queued_rows: number;
    spool_bytes: number;
    exported_rows: number;
    retries: number;
    spooled_rows: number;
    replayed_rows: number;
    dropped_rows: unknown;
    rejected_rows: unknown;
    dropped_before: unknown;
    rejected_before: unknown;
    last_error: string | null;
  }>`
    with latest as (
       select distinct on (instance_id) *
       from analytics_pipeline_stats
       where time >= now() - ${lookbackMillis}::float8 * interval '1 millisecond'
       order by instance_id, time desc, id desc
     )
     select l.instance_id, l.service_name, l.final,
            (extract(epoch from now() - l.time) * 1000)::float8 as age_millis,
            l.queued_rows::float8 as queued_rows, l.spool_bytes::float8 as spool_bytes,
            l.exported_rows::float8 as exported_rows, l.retries::float8 as retries,
            l.spooled_rows::float8 as spooled_rows, l.replayed_rows::float8 as replayed_rows,
            l.dropped_rows, l.rejected_rows, l.last_error,
            coalesce(b.dropped_rows, case when l.started_at >= w.since then '{}'::jsonb else e.dropped_rows end)
              as dropped_before,
            coalesce(b.rejected_rows, case when l.started_at >= w.since then '{}'::jsonb else e.rejected_rows end)
              as rejected_before
     from latest l
     cross join (select now() - ${windowMillis}::float8 * interval '1 millisecond' as since) w
     left join lateral (
       select s.dropped_rows, s.rejected_rows from analytics_pipeline_stats s
       where s.instance_id = l.instance_id and s.time <= w.since
       order by s.time desc, s.id desc limit 1
     ) b on true
     left join lateral (
       select s.dropped_rows, s.rejected_rows from analytics_pipeline_stats s
       where s.instance_id = l.instance_id and s.time > w.since
       order by s.time, s.id limit 1
     ) e on true
     order by l.instance_id`.execute(db);
  const instances: InstanceSnapshot[] = rows.map((row) => ({
    instanceId: row.instance_id,
    serviceName: row.service_name,
    ageMillis: row.age_millis,
    final: row.final,
    queuedRows: row.queued_rows,
    spoolBytes: row.spool_bytes,
    exportedRows: row.exported_rows,
    retries: row.retries,
    spooledRows: row.spooled_rows,
    replayedRows: row.replayed_rows,
    droppedRows: counts(row.dropped_rows),
    rejectedRows: counts(row.rejected_rows),
    droppedRowsBefore: counts(row.dropped_before),
    rejectedRowsBefore: counts(row.rejected_before),
    lastError: row.last_error,
  }));
  let latestReport: Date | null = null;
  if (instances.length === 0) {
    const latest = await db
      .selectFrom('analytics_pipeline_stats')
      .select((eb) => eb.fn.max<Date | null>('time').as('time'))
      .executeTakeFirst();
    latestReport = latest?.time ?? null;
  }
  return { checks: pipelineHealth(instances, { windowMillis, staleAfterMillis }, latestReport) };
}

/** A by-reason counter object from jsonb; anything that is not a positive number is ignored. */
function counts(value: unknown): Record<string, number> {
  const result: Record<string, number> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return result;
  for (const [reason, count] of Object.entries(value)) {
    if (typeof count === 'number' && Number.isFinite(count) && count > 0) result[reason] = count;
  }
  return result;
}

import { sql, type Kysely } from 'kysely';
import type { PipelineStats } from '../src/pipeline-stats.js';

/** One process's counters, as a row of `analytics_pipeline_stats` takes them. */
export interface PipelineStatsSnapshot {
  /** `<host>/<pid>/<start time ms>`: one per process. */
  instanceId: string;
  host: string;
  pid: number;
  startedAt: Date;
  serviceName: string | undefined;
  /** The last snapshot, written as the exporter shuts down (a clean end, not a vanishing). */
  final: boolean;
  stats: PipelineStats;
}

/** Inserts a row of counters (cumulative since the process started) into `analytics_pipeline_stats`. */
export async function writePipelineStats(
  db: Kysely<unknown>,
  snapshot: PipelineStatsSnapshot,
): Promise<void> {
  const { stats } = snapshot;
  await sql`
    insert into analytics_pipeline_stats (
      time, service_name, instance_id, host, pid, started_at, final, queued_rows, spool_bytes,
      exported_rows, retries, spooled_rows, replayed_rows, dropped_rows, rejected_rows, last_error
    ) values (
      now(), ${snapshot.serviceName ?? null}, ${snapshot.instanceId}, ${snapshot.host}, ${snapshot.pid},
      ${snapshot.startedAt.toISOString()}::timestamptz, ${snapshot.final}, ${stats.queuedRows}, ${stats.spoolBytes},
      ${stats.exportedRows}, ${stats.retries}, ${stats.spooledRows}, ${stats.replayedRows},
      ${JSON.stringify(stats.droppedRows)}::jsonb, ${JSON.stringify(stats.rejectedRows)}::jsonb,
      ${stats.lastError?.slice(0, 1000) ?? null}
    )
  `.execute(db);
}

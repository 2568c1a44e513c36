import type { DoctorCheck, DoctorStatus } from './doctor-check.js';
import { formatBytes } from './format-bytes.js';

/**
 * The latest snapshot one exporter process wrote to `analytics_pipeline_stats`, with its
 * by-reason counters as they stood when the window began.
 */
export interface InstanceSnapshot {
  instanceId: string;
  serviceName: string | null;
  /** How long before now the latest snapshot was taken. */
  ageMillis: number;
  /** The snapshot was written as the exporter shut down. */
  final: boolean;
  queuedRows: number;
  spoolBytes: number;
  exportedRows: number;
  retries: number;
  spooledRows: number;
  replayedRows: number;
  droppedRows: Readonly<Record<string, number>>;
  rejectedRows: Readonly<Record<string, number>>;
  /** `droppedRows` when the window began (empty when the process started within it). */
  droppedRowsBefore: Readonly<Record<string, number>>;
  rejectedRowsBefore: Readonly<Record<string, number>>;
  lastError: string | null;
}

/** The time spans {@link pipelineHealth} judges by. */
export interface PipelineHealthOptions {
  /** Growth of the dropped and rejected counters is measured over this window. */
  windowMillis: number;
  /** A process whose latest snapshot is older than this (and not final) stopped reporting. */
  staleAfterMillis: number;
}

/** Fixes for the drop reasons the exporter counts; anything else points at `last_error`. */
const DROP_FIXES: Readonly<Record<string, string>> = {
  queue_full:
    'queue_full: rows arrived faster than the database took them (or it was away): see the last error, and raise maxQueueRows if bursts are normal',
  database_unavailable:
    'database_unavailable: the database was unreachable past the retry deadline: check it and the network from the app',
  schema_missing: 'schema_missing: run `otel-pg-analytics migrate`',
  schema_mismatch: 'schema_mismatch: run `otel-pg-analytics migrate`',
  permission_denied: "permission_denied: GRANT INSERT on the tables to the app's role (see privileges)",
  connection_rejected: "connection_rejected: check the app's connection string and password",
  tls_failed:
    "tls_failed: TLS with the database failed: the last error names the sslmode or sslrootcert to fix in the app's connection string",
  shutdown_timeout:
    'shutdown_timeout: the final flush ran out of time: raise OTEL_ANALYTICS_SHUTDOWN_TIMEOUT, or use a spool dir',
};

const MAX_ERROR_CHARS = 300;

/**
 * Judges the exporter processes that reported recently: `warn` when one dropped or had rows
 * refused within the window, has bytes waiting in its spool, or stopped reporting without a
 * final snapshot; `ok` otherwise. A process that shut down cleanly before the window is not
 * judged. Without any process to judge, one `ok` line says so (`latestReport`: when any
 * process last reported, for when none reported within the look-back; `null` for never).
 */
export function pipelineHealth(
  instances: readonly InstanceSnapshot[],
  options: PipelineHealthOptions,
  latestReport: Date | null,
): DoctorCheck[] {
  const checks = instances
    .filter((instance) => !instance.final || instance.ageMillis <= options.windowMillis)
    .map((instance) => instanceHealth(instance, options));
  if (checks.length > 0) return checks;
  const lastEnded = [...instances].sort((a, b) => a.ageMillis - b.ageMillis)[0];
  if (lastEnded !== undefined) {
    return [
      {
        check: 'pipeline',
        status: 'ok',
        message: `no pipeline has reported in the last ${formatDuration(options.windowMillis)}; the last one, ${lastEnded.instanceId}, shut down ${formatDuration(lastEnded.ageMillis)} ago`,
      },
    ];
  }
  return [
    {
      check: 'pipeline',
      status: 'ok',
      message:
        latestReport === null
          ? 'no pipeline has reported yet (nothing in analytics_pipeline_stats)'
          : `no pipeline has reported recently; the latest report was at ${latestReport.toISOString()}`,
    },
  ];
}

function instanceHealth(instance: InstanceSnapshot, options: PipelineHealthOptions): DoctorCheck {
  const name = instance.serviceName
    ? `${instance.instanceId} (${instance.serviceName})`
    : instance.instanceId;
  const facts = [
    `exported ${instance.exportedRows} rows`,
    `${instance.queuedRows} queued`,
    `${instance.retries} retries`,
    `${instance.spooledRows} spooled`,
    `${instance.replayedRows} replayed`,
  ];
  const problems: string[] = [];
  const fixes: string[] = [];
  const window = formatDuration(options.windowMillis);

  const dropped = growth(instance.droppedRows, instance.droppedRowsBefore);
  if (dropped.total > 0) {
    problems.push(
      `dropped ${dropped.total} rows in the last ${window} (${describeCounts(dropped.byReason)})`,
    );
    for (const reason of Object.keys(dropped.byReason))
      fixes.push(DROP_FIXES[reason] ?? `${reason}: see the last error`);
  }
  const rejected = growth(instance.rejectedRows, instance.rejectedRowsBefore);
  if (rejected.total > 0) {
    problems.push(
      `PostgreSQL refused ${rejected.total} rows in the last ${window} (${describeCounts(rejected.byReason)})`,
    );
    fixes.push(
      'refused rows: the last error names the value PostgreSQL would not take (the rest of each batch was written)',
    );
  }
  if (instance.spoolBytes > 0) {
    problems.push(`${formatBytes(instance.spoolBytes)} waiting in its spool`);
    fixes.push('spool: rows wait there while the database is unreachable; check the database from the app');
  }
  const ago = formatDuration(instance.ageMillis);
  let when: string;
  if (instance.final) {
    when = `ended ${ago} ago`;
  } else if (instance.ageMillis > options.staleAfterMillis) {
    when = `stopped reporting ${ago} ago`;
    problems.unshift(`no report for ${ago}`);
    fixes.unshift(
      'if that process was killed it is gone (its spool is replayed by the next start); if it still runs, check that it can reach the database',
    );
  } else {
    when = `last report ${ago} ago`;
  }

  const status: DoctorStatus = problems.length > 0 ? 'warn' : 'ok';
  const lastError =
    status === 'warn' && instance.lastError
      ? `; last error: ${truncate(instance.lastError, MAX_ERROR_CHARS)}`
      : '';
  return {
    check: 'pipeline',
    status,
    message: `${name}: ${when}; ${facts.join(', ')}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}${lastError}`,
    ...(fixes.length > 0 && { fix: fixes.join('; ') }),
  };
}

/** How much each by-reason counter grew (counters only grow within one process). */
function growth(
  now: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): { total: number; byReason: Record<string, number> } {
  const byReason: Record<string, number> = {};
  let total = 0;
  for (const [reason, count] of Object.entries(now)) {
    const grew = count - (before[reason] ?? 0);
    if (grew > 0) {
      byReason[reason] = grew;
      total += grew;
    }
  }
  return { total, byReason };
}

function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(', ');
}

/** `42 s`, `12 min`, `3 h`. */
function formatDuration(millis: number): string {
  const seconds = Math.max(0, Math.round(millis / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}

function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

import { withTransaction } from '../database/with-transaction.js';
import { readReport } from './read-report.js';

/** The window a report covers: `since` inclusive, `until` exclusive. */
export interface ReportRange {
  since: Date;
  until: Date;
}

/** One point of a time series: the bucket's start and its values. */
export interface ReportBucket {
  time: Date;
  values: Readonly<Record<string, number>>;
}

/** A table: column names and rows of display values. */
export interface ReportTable {
  columns: readonly string[];
  rows: readonly (readonly (string | number | null)[])[];
}

/**
 * What `otel-pg-analytics report` shows, read from the dashboard views (the same questions as
 * the Grafana dashboards). Counts of API requests are weighted by `sample_weight`.
 */
export interface ReportData {
  range: ReportRange;
  /** Width of a time-series bucket, seconds. */
  bucketSeconds: number;
  generatedAt: Date;
  api: {
    totals: { requests: number; errorRate: number; p50: number | null; p95: number | null; users: number };
    /** requests, errors (5xx), p95 (ms) per bucket. */
    series: ReportBucket[];
    endpoints: ReportTable;
    slowest: ReportTable;
    statuses: ReportTable;
    users: ReportTable;
  };
  auth: {
    totals: { logins: number; failed: number; signups: number; passwordResets: number };
    /** succeeded, failed events per bucket. */
    series: ReportBucket[];
    bursts: ReportTable;
    failedByIp: ReportTable;
    failedByUser: ReportTable;
  };
  external: {
    totals: { calls: number; cost: number; errorRate: number; tokens: number };
    /** Cost per UTC day, by service. */
    costByDay: ReportBucket[];
    /** input, output tokens per bucket. */
    tokens: ReportBucket[];
    services: ReportTable;
    models: ReportTable;
    users: ReportTable;
  };
}

/** Options of {@link loadReportData}. */
export interface LoadReportOptions extends ReportRange {
  /** Limit of each query, ms. Defaults to {@link DEFAULT_REPORT_STATEMENT_TIMEOUT_MILLIS}. */
  statementTimeoutMillis?: number;
}

/** Each report query may run this long; a report over a huge range fails rather than hangs. */
export const DEFAULT_REPORT_STATEMENT_TIMEOUT_MILLIS = 60_000;

const BUCKETS = [10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];

/** A bucket width giving at most 96 points over the range (so charts stay readable). */
export function chooseBucketSeconds(range: ReportRange): number {
  const seconds = (range.until.getTime() - range.since.getTime()) / 1000;
  return BUCKETS.find((bucket) => seconds / bucket <= 96) ?? BUCKETS[BUCKETS.length - 1]!;
}

/**
 * Reads everything a report shows, in one read-only transaction (one consistent snapshot).
 * Needs only SELECT: the reader role of `migrate --roles` is enough.
 */
export async function loadReportData(
  connectionString: string,
  options: LoadReportOptions,
): Promise<ReportData> {
  const range = { since: options.since, until: options.until };
  const bucketSeconds = chooseBucketSeconds(range);
  return withTransaction(
    {
      connectionString,
      applicationName: 'otel-pg-analytics report',
      statementTimeoutMillis: options.statementTimeoutMillis ?? DEFAULT_REPORT_STATEMENT_TIMEOUT_MILLIS,
    },
    (client) => readReport(client, range, bucketSeconds),
    // One consistent snapshot for every query.
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

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
 * Which raw rows a section's estimated parts were computed from: a sample of the table's pages
 * (`percent` of them, `rows` rows in the range), taken when the range held more rows than
 * the report reads for them.
 */
export interface ReportSample {
  percent: number;
  rows: number;
}

/**
 * What `otel-pg-analytics report` shows, the same questions as the Grafana dashboards, read
 * from the hourly rollups and the dashboard views. Counts of API requests are weighted by
 * `sample_weight`. Counts, errors, cost and tokens are exact; the parts the rollups do not hold
 * (percentiles, users, status codes, slowest endpoints, unpriced calls, cost by user) are
 * exact up to about 50,000 requests (calls) in the range and estimated from a sample past that
 * (`sample` says so; {@link LoadReportOptions.exact} reads every row).
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
    /**
     * Absent when every row was read. Otherwise the sample behind the percentiles of the cards
     * and tables, users (then a lower bound), the slowest endpoints, status codes and top users
     * (their requests are the sample's share of the exact total); the p95 of `series` then
     * comes from the rollups' latency histograms, exact to a histogram bucket.
     */
    sample?: ReportSample;
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
    /**
     * Absent when every row was read. Otherwise the sample behind the services' p95 and
     * unpriced calls and the cost by user (the sample's share of the exact calls).
     */
    sample?: ReportSample;
  };
}

/** Options of {@link loadReportData}. */
export interface LoadReportOptions extends ReportRange {
  /** Limit of each query, ms. Defaults to {@link DEFAULT_REPORT_STATEMENT_TIMEOUT_MILLIS}. */
  statementTimeoutMillis?: number;
  /**
   * Read every raw row for the parts the hourly rollups do not hold, never a sample: exact,
   * but a month of millions of rows then takes seconds rather than a fraction of one.
   */
  exact?: boolean;
}

/**
 * About how many raw rows per table the parts the rollups do not hold read before they sample:
 * enough for a p95 to a few percent (a month of synthetic traffic: 1.4% off), and a few tens of
 * milliseconds a query.
 */
const SAMPLE_ROWS = 50_000;

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
    (client) =>
      readReport(client, range, bucketSeconds, {
        rollups: true,
        sampleRows: options.exact === true ? Infinity : SAMPLE_ROWS,
      }),
    // One consistent snapshot for every query.
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

import { sql, type RawBuilder } from 'kysely';
import type { ReportRange } from './report-data.js';
import { during } from './time-sql.js';

// What the hourly rollups cannot answer (percentiles, distinct users, per-user and per-status
// tables, unpriced calls) needs raw rows, and over a month of a busy service reading them all
// takes seconds (every raw query of the report scans the range again). So past a budget these
// parts read a sample: TABLESAMPLE SYSTEM picks whole pages at random, so its cost is the pages
// it reads, not the range's size. The percentiles stay the statistic the short report shows
// (percentile_cont over rows); their sampling error is that of a few tens of thousands of rows,
// about a percent of rank. The rollups' latency histograms were the other way: exact counts, but
// buckets up to 2.5 times wide (1 to 2.5 s, 2.5 to 5 s), so a p95 read from them can be off by
// a second where it matters most, and weighted by sample_weight where the report's is not.
// REPEATABLE with one seed makes every query of a report read the same pages, so its tables
// agree with each other, and a second report over the same rows reads the same sample.

/**
 * The percent of pages to sample so that about `budget` rows of the `rowsInRange` are read, or
 * null when `rowsInRange` fits the budget and every row is read (the answer is then exact).
 */
export function samplePercent(rowsInRange: number, budget: number): number | null {
  return rowsInRange > budget ? (100 * budget) / rowsInRange : null;
}

/**
 * API requests of `range` as (`time`, `route`, `user_id`, `status_code`, `response_time_ms`,
 * `sample_weight`, `is_error`): every row through the view, or a `percent` sample of pages.
 */
export function sampledApiRows(range: ReportRange, percent: number | null): RawBuilder<unknown> {
  if (percent === null)
    return sql`
    select time, route, user_id, status_code, response_time_ms, sample_weight, is_error
    from analytics_api_requests where ${during(range)}`;
  // A view takes no TABLESAMPLE, so this samples the table and derives route and is_error as
  // analytics_api_requests does (schema.sql); report.test.ts checks the two agree row for row.
  return sql`
    select time, coalesce(method || ' ', '') || coalesce(endpoint, path, '(unknown)') as route,
           user_id, status_code, response_time_ms, sample_weight,
           coalesce(status_code >= 500, error_message is not null
                    and metadata ->> 'no_response' is distinct from 'client_closed') as is_error
    from api_access_log tablesample system (${percent}::float4) repeatable (0)
    where ${during(range)}`;
}

/**
 * External calls of `range` as (`time`, `service`, `user_id`, `response_time_ms`,
 * `cost_estimate`): every row, or a `percent` sample of pages.
 */
export function sampledExternalRows(range: ReportRange, percent: number | null): RawBuilder<unknown> {
  // Plain columns of the table, the same through the view: no derivation to keep in step.
  const sample = percent === null ? sql`` : sql`tablesample system (${percent}::float4) repeatable (0)`;
  return sql`
    select time, service, user_id, response_time_ms, cost_estimate
    from external_api_call_log ${sample} where ${during(range)}`;
}

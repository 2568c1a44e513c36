import { sql } from 'kysely';
import type { ReportQueries } from './report-queries.js';
import type { HourSplit } from './split-at-hours.js';
import { bucketStart, during } from './time-sql.js';

/** Latency histograms per time bucket, over the buckets of `bounds`. */
export interface LatencyHistograms {
  /** analytics_latency_bounds_ms(), ms. */
  bounds: readonly number[];
  /** Bucket start (epoch ms) → requests (weighted) per latency bucket. */
  byTime: ReadonlyMap<number, readonly number[]>;
}

/**
 * Per time bucket of `bucketSeconds` (whole hours), the API requests in each latency bucket of
 * analytics_latency_bounds_ms(), weighted by sample_weight: the rollups' histograms for the
 * whole hours, the same histogram made from raw rows for the partial ones (as the rollup
 * trigger makes it: width_bucket over the same bounds), so both paths count alike.
 */
export async function readLatencyHistograms(
  q: ReportQueries,
  split: HourSplit,
  bucketSeconds: number,
): Promise<LatencyHistograms> {
  const [row] = await q.rows(sql`select analytics_latency_bounds_ms() as bounds`);
  const bounds = (row?.bounds as number[] | undefined) ?? [];
  const byTime = new Map<number, number[]>();
  const add = (time: Date, bucket: number, requests: number) => {
    const counts = byTime.get(time.getTime()) ?? Array<number>(bounds.length + 1).fill(0);
    counts[bucket] = (counts[bucket] ?? 0) + requests;
    byTime.set(time.getTime(), counts);
  };
  if (split.wholeHours !== null) {
    // Summed element by element in SQL (no unnest): one row per time bucket comes back.
    const sums = sql.join(
      Array.from({ length: bounds.length + 1 }, (_, i) => sql`sum(latency_buckets[${sql.lit(i + 1)}])`),
    );
    const rows = await q.rows(sql`
      select ${bucketStart(bucketSeconds, 'hour')} as time, array[${sums}]::float8[] as counts
      from analytics_api_hourly where ${during(split.wholeHours, 'hour')} group by 1`);
    for (const r of rows) (r.counts as number[]).forEach((n, i) => add(r.time as Date, i, n));
  }
  if (split.partial.length > 0) {
    const rows = await q.rows(sql`
      select ${bucketStart(bucketSeconds)} as time,
             width_bucket(response_time_ms, analytics_latency_bounds_ms()) as bucket,
             sum(sample_weight)::float8 as requests
      from api_access_log
      where (${sql.join(
        split.partial.map((range) => sql`(${during(range)})`),
        sql` or `,
      )}) and response_time_ms is not null
      group by 1, 2`);
    for (const r of rows) add(r.time as Date, Number(r.bucket), Number(r.requests));
  }
  return { bounds, byTime };
}

import { sql, type RawBuilder } from 'kysely';
import { countedApiRows } from './counted-rows.js';
import { histogramPercentile } from './histogram-percentile.js';
import { readLatencyHistograms } from './latency-histograms.js';
import type { ReportData, ReportTable } from './report-data.js';
import type { ReportPlan } from './report-plan.js';
import { reportTable, type ReportQueries } from './report-queries.js';
import { bucketOf, nullableNum, num } from './report-values.js';
import { sampledApiRows, samplePercent } from './sampled-rows.js';
import { bucketStart, during } from './time-sql.js';

/**
 * The report's API section. Requests, server errors (totals, per bucket, per endpoint) are
 * sums the rollups hold: exact. Percentiles, distinct users, status codes, the slowest
 * endpoints and top users need raw rows: every row up to the plan's budget, a sample past it.
 */
export async function readApiSection(q: ReportQueries, plan: ReportPlan): Promise<ReportData['api']> {
  const counted = countedApiRows(plan.split);
  const [exact] = await q.rows(sql`
    select coalesce(sum(requests), 0)::float8 as requests,
           coalesce(sum(errors) / nullif(sum(requests), 0), 0)::float8 as error_rate
    from (${counted}) c`);
  const requests = num(exact?.requests);
  // The rollups count requests weighted, not rows; rows are at most that many (a weight is
  // 1 / sampling ratio, at least 1), so the sample reads at most about the budget.
  const percent = samplePercent(requests, plan.sampleRows);
  const sampled = sampledApiRows(plan.range, percent);
  const [sample] = await q.rows(sql`
    select count(*)::int as sampled_rows, coalesce(sum(sample_weight), 0)::float8 as weight,
           percentile_cont(0.5) within group (order by response_time_ms) as p50,
           percentile_cont(0.95) within group (order by response_time_ms) as p95,
           count(distinct user_id)::int as users
    from (${sampled}) s`);
  // A sample's weighted sums, scaled by the exact total over the sample's (a ratio estimate:
  // the status codes' requests then add up to the requests card). Unscaled, so unchanged, when
  // every row was read.
  const weight = num(sample?.weight);
  const scale = percent === null || weight === 0 ? null : requests / weight;
  const scaled = (sum: RawBuilder<unknown>) => (scale === null ? sum : sql`round(${sum} * ${scale}::float8)`);
  const bucket = bucketStart(plan.bucketSeconds);

  // Per bucket: requests and errors from the counted rows; the p95 from every raw row when the
  // range fits the budget, else from the latency histograms (below).
  const p95 =
    percent === null
      ? sql`select ${bucket} as time, percentile_cont(0.95) within group (order by response_time_ms) as p95
            from (${sampled}) s group by 1`
      : sql`select null::timestamptz as time, null::float8 as p95 where false`;
  const series = await q.rows(sql`
    with c as (
      select ${bucket} as time, sum(requests)::float8 as requests, coalesce(sum(errors), 0)::float8 as errors
      from (${countedApiRows(plan.seriesSplit)}) c group by 1
    ), s as (${p95})
    select c.time, c.requests, c.errors, s.p95 from c left join s using (time) order by 1`);
  if (percent !== null) {
    // A sample spread over the chart's buckets leaves a few hundred rows in each, too few for a
    // steady p95: over a month of synthetic traffic it jumped by half from bucket to bucket.
    // The rollups' latency histograms count every request and are exact to a histogram bucket:
    // there the line held steady, 6 to 10% above the rows' own p95 (geometric interpolation).
    const histograms = await readLatencyHistograms(q, plan.seriesSplit, plan.bucketSeconds);
    for (const r of series) {
      const counts = histograms.byTime.get((r.time as Date).getTime());
      r.p95 = counts === undefined ? null : histogramPercentile(counts, histograms.bounds, 0.95);
    }
  }

  return {
    totals: {
      requests,
      errorRate: num(exact?.error_rate),
      p50: nullableNum(sample?.p50),
      p95: nullableNum(sample?.p95),
      users: num(sample?.users),
    },
    series: series.map((r) => bucketOf(r, ['requests', 'errors', 'p95'])),
    endpoints: await q.table(sql`
      with c as (
        select route, sum(requests) as requests, coalesce(sum(errors), 0) as errors
        from (${counted}) c group by route order by 2 desc, 1 limit 10
      ), s as (
        select route,
               percentile_cont(0.5) within group (order by response_time_ms) as p50,
               percentile_cont(0.95) within group (order by response_time_ms) as p95,
               percentile_cont(0.99) within group (order by response_time_ms) as p99
        from (${sampled}) s where route in (select route from c) group by route
      )
      select c.route as "endpoint", c.requests::float8 as "requests",
             round((100 * c.errors / c.requests)::numeric, 2) as "5xx %",
             round(s.p50::numeric, 1) as "p50 ms", round(s.p95::numeric, 1) as "p95 ms",
             round(s.p99::numeric, 1) as "p99 ms"
      from c left join s using (route) order by 2 desc, 1`),
    slowest: await q.table(sql`
      with s as (
        select route, percentile_cont(0.95) within group (order by response_time_ms) as p95,
               max(response_time_ms) as max
        from (${sampled}) s group by route having count(*) >= 5
      ), c as (
        select route, sum(requests) as requests from (${counted}) c
        where route in (select route from s) group by route
      )
      select s.route as "endpoint", round(s.p95::numeric, 1) as "p95 ms", round(s.max::numeric, 1) as "max ms",
             c.requests::float8 as "requests"
      from s left join c using (route) order by 2 desc nulls last, 1 limit 10`),
    statuses: await q.table(sql`
      select coalesce(status_code::text, 'none') as "status", ${scaled(sql`sum(sample_weight)`)}::float8 as "requests"
      from (${sampled}) s group by 1 order by 2 desc, 1`),
    users: await topUsers(q, plan, sampled, percent, scaled),
    ...(percent !== null && { sample: { percent, rows: num(sample?.sampled_rows) } }),
  };
}

/**
 * The ten users with the most requests, their server errors and their last request. The last
 * request is the latest of the rows when every row was read; otherwise it is looked up for each
 * of the ten by the (user_id, time) index, since a sample's latest may be days early: one
 * uncorrelated subquery per user, its id a parameter (PostgreSQL reads one index entry for each;
 * Citus, which refuses a subquery correlated with rows of a distributed table's sample, runs
 * each on the shards).
 */
async function topUsers(
  q: ReportQueries,
  plan: ReportPlan,
  sampled: RawBuilder<unknown>,
  percent: number | null,
  scaled: (sum: RawBuilder<unknown>) => RawBuilder<unknown>,
): Promise<ReportTable> {
  const top = await q.rows(sql`
    select user_id, ${scaled(sql`sum(sample_weight)`)}::float8 as requests,
           ${scaled(sql`coalesce(sum(sample_weight) filter (where is_error), 0)`)}::float8 as errors,
           max(time) as last
    from (${sampled}) s where user_id is not null group by user_id order by 2 desc, 1 limit 10`);
  if (percent !== null && top.length > 0) {
    const latest = top.map(
      (user, i) =>
        sql`(select max(a.time) from api_access_log a where a.user_id = ${user.user_id} and ${during(plan.range, 'a.time')}) as ${sql.ref(`u${i}`)}`,
    );
    const [exact] = await q.rows(sql`select ${sql.join(latest)}`);
    top.forEach((user, i) => (user.last = exact?.[`u${i}`] ?? null));
  }
  return reportTable(
    ['user', 'requests', '5xx', 'last seen'],
    top.map((user) => [user.user_id, user.requests, user.errors, user.last]),
  );
}

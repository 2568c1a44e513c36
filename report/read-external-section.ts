import { sql, type RawBuilder } from 'kysely';
import { countedExternalRows } from './counted-rows.js';
import type { ReportData } from './report-data.js';
import type { ReportPlan } from './report-plan.js';
import type { ReportQueries } from './report-queries.js';
import { bucketOf, num, pivot } from './report-values.js';
import { sampledExternalRows, samplePercent } from './sampled-rows.js';
import { bucketStart } from './time-sql.js';

/**
 * The report's external-calls section. Calls, errors, cost and tokens (totals, per day, per
 * bucket, per service and model) are sums the rollups hold: exact. The p95 and the unpriced
 * calls per service, and the cost per user, need raw rows: every row up to the plan's budget, a
 * sample past it.
 */
export async function readExternalSection(
  q: ReportQueries,
  plan: ReportPlan,
): Promise<ReportData['external']> {
  const counted = countedExternalRows(plan.split);
  const [totals] = await q.rows(sql`
    select coalesce(sum(calls), 0)::int as calls, coalesce(sum(cost), 0)::float8 as cost,
           coalesce(sum(errors)::float8 / nullif(sum(calls), 0)::float8, 0) as error_rate,
           (coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0))::float8 as tokens
    from (${counted}) c`);
  const calls = num(totals?.calls);
  const percent = samplePercent(calls, plan.sampleRows);
  const sampled = sampledExternalRows(plan.range, percent);
  const sampledCalls =
    percent === null ? calls : num((await q.rows(sql`select count(*)::int as n from (${sampled}) s`))[0]?.n);
  // As in the API section: a sample's counts and costs scaled by exact calls over sampled calls.
  const scale = percent === null || sampledCalls === 0 ? null : calls / sampledCalls;
  const times = (sum: RawBuilder<unknown>) => (scale === null ? sum : sql`(${sum} * ${scale}::numeric)`);
  const scaled = (count: RawBuilder<unknown>) => (scale === null ? count : sql`round(${times(count)})`);
  const costByDay = await q.rows(sql`
    select date_trunc('day', time, 'UTC') as time, coalesce(service, '(unknown)') as service,
           coalesce(sum(cost), 0)::float8 as cost
    from (${counted}) c group by 1, 2 order by 1, 2`);
  const tokens = await q.rows(sql`
    select ${bucketStart(plan.bucketSeconds)} as time, coalesce(sum(input_tokens), 0)::float8 as input,
           coalesce(sum(output_tokens), 0)::float8 as output
    from (${countedExternalRows(plan.seriesSplit)}) c group by 1 order by 1`);
  return {
    totals: {
      calls,
      cost: num(totals?.cost),
      errorRate: num(totals?.error_rate),
      tokens: num(totals?.tokens),
    },
    costByDay: pivot(costByDay, 'service', 'cost'),
    tokens: tokens.map((r) => bucketOf(r, ['input', 'output'])),
    services: await q.table(sql`
      with c as (
        select coalesce(service, '(unknown)') as service, sum(calls) as calls, sum(errors) as errors,
               coalesce(sum(cost), 0) as cost
        from (${counted}) c group by 1
      ), s as (
        select coalesce(service, '(unknown)') as service,
               percentile_cont(0.95) within group (order by response_time_ms) as p95,
               ${scaled(sql`count(*) filter (where cost_estimate is null)`)} as unpriced
        from (${sampled}) s group by 1
      )
      select c.service as "service", c.calls::int as "calls", round(100.0 * c.errors / c.calls, 2) as "error %",
             round(s.p95::numeric, 1) as "p95 ms", round(c.cost, 4) as "cost USD",
             coalesce(s.unpriced, 0)::int as "unpriced"
      from c left join s using (service) order by 5 desc, 2 desc, 1`),
    models: await q.table(sql`
      select service as "service", model as "model", sum(calls)::int as "calls",
             coalesce(sum(input_tokens), 0)::float8 as "input tokens",
             coalesce(sum(output_tokens), 0)::float8 as "output tokens",
             round(coalesce(sum(cost), 0), 4) as "cost USD"
      from (${counted}) c where model is not null
      group by 1, 2 order by 6 desc, 1, 2 limit 10`),
    users: await q.table(sql`
      select coalesce(user_id, '(no user)') as "user", ${scaled(sql`count(*)`)}::int as "calls",
             round(${times(sql`coalesce(sum(cost_estimate), 0)`)}, 4) as "cost USD"
      from (${sampled}) s group by 1 order by 3 desc, 1 limit 10`),
    ...(percent !== null && { sample: { percent, rows: sampledCalls } }),
  };
}

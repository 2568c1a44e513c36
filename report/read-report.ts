import { sql, type Kysely, type RawBuilder } from 'kysely';
import type pg from 'pg';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { createKysely } from '../database/create-kysely.js';
import type { ReportBucket, ReportData, ReportRange, ReportTable } from './report-data.js';

/** Every query of a report, on `client` (inside the report's transaction). */
export async function readReport(
  client: pg.ClientBase,
  range: ReportRange,
  bucketSeconds: number,
): Promise<ReportData> {
  const db = createKysely({ client });
  const rows = async (query: RawBuilder<Record<string, unknown>>) => (await query.execute(db)).rows;
  const table = (query: RawBuilder<unknown>) => readTable(client, db, query);
  // Every query reads through the dashboard views.
  const since = range.since.toISOString();
  const until = range.until.toISOString();
  const inRange = sql`time >= ${since}::timestamptz and time < ${until}::timestamptz`;
  const bucket = sql`to_timestamp(floor(extract(epoch from time) / ${bucketSeconds}::int) * ${bucketSeconds}::int)`;

  const [apiTotals] = await rows(sql`
    select coalesce(sum(sample_weight), 0)::float8 as requests,
           coalesce(sum(sample_weight) filter (where is_error) / nullif(sum(sample_weight), 0), 0)::float8 as error_rate,
           percentile_cont(0.5) within group (order by response_time_ms) as p50,
           percentile_cont(0.95) within group (order by response_time_ms) as p95,
           count(distinct user_id)::int as users
    from analytics_api_requests where ${inRange}`);
  const apiSeries = await rows(sql`
    select ${bucket} as time, sum(sample_weight)::float8 as requests,
           coalesce(sum(sample_weight) filter (where is_error), 0)::float8 as errors,
           percentile_cont(0.95) within group (order by response_time_ms) as p95
    from analytics_api_requests where ${inRange} group by 1 order by 1`);
  const [authTotals] = await rows(sql`
    select count(*) filter (where event_type = 'login' and success)::int as logins,
           count(*) filter (where not success)::int as failed,
           count(*) filter (where event_type = 'signup' and success)::int as signups,
           count(*) filter (where event_type = 'password_reset')::int as password_resets
    from authentication_log where ${inRange}`);
  const authSeries = await rows(sql`
    select ${bucket} as time, count(*) filter (where success)::int as succeeded,
           count(*) filter (where not success)::int as failed
    from authentication_log where ${inRange} group by 1 order by 1`);
  const [externalTotals] = await rows(sql`
    select count(*)::int as calls, coalesce(sum(cost_estimate), 0)::float8 as cost,
           coalesce(count(*) filter (where is_error)::float8 / nullif(count(*), 0), 0) as error_rate,
           (coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0))::float8 as tokens
    from analytics_external_calls where ${inRange}`);
  const costByDay = await rows(sql`
    select date_trunc('day', time, 'UTC') as time, coalesce(service, '(unknown)') as service,
           coalesce(sum(cost_estimate), 0)::float8 as cost
    from analytics_external_calls where ${inRange} group by 1, 2 order by 1, 2`);
  const tokenSeries = await rows(sql`
    select ${bucket} as time, coalesce(sum(input_tokens), 0)::float8 as input,
           coalesce(sum(output_tokens), 0)::float8 as output
    from analytics_external_calls where ${inRange} group by 1 order by 1`);

  const data: ReportData = {
    range,
    bucketSeconds,
    generatedAt: new Date(),
    api: {
      totals: {
        requests: num(apiTotals?.requests),
        errorRate: num(apiTotals?.error_rate),
        p50: nullableNum(apiTotals?.p50),
        p95: nullableNum(apiTotals?.p95),
        users: num(apiTotals?.users),
      },
      series: apiSeries.map((r) => bucketOf(r, ['requests', 'errors', 'p95'])),
      endpoints: await table(sql`
        select route as "endpoint", sum(sample_weight)::float8 as "requests",
               round((100 * coalesce(sum(sample_weight) filter (where is_error), 0) / sum(sample_weight))::numeric, 2) as "5xx %",
               round(percentile_cont(0.5) within group (order by response_time_ms)::numeric, 1) as "p50 ms",
               round(percentile_cont(0.95) within group (order by response_time_ms)::numeric, 1) as "p95 ms",
               round(percentile_cont(0.99) within group (order by response_time_ms)::numeric, 1) as "p99 ms"
        from analytics_api_requests where ${inRange} group by route order by 2 desc, 1 limit 10`),
      slowest: await table(sql`
        select route as "endpoint",
               round(percentile_cont(0.95) within group (order by response_time_ms)::numeric, 1) as "p95 ms",
               round(max(response_time_ms)::numeric, 1) as "max ms", sum(sample_weight)::float8 as "requests"
        from analytics_api_requests where ${inRange} group by route having count(*) >= 5
        order by 2 desc nulls last, 1 limit 10`),
      statuses: await table(sql`
        select coalesce(status_code::text, 'none') as "status", sum(sample_weight)::float8 as "requests"
        from analytics_api_requests where ${inRange} group by 1 order by 2 desc, 1`),
      users: await table(sql`
        select user_id as "user", sum(sample_weight)::float8 as "requests",
               coalesce(sum(sample_weight) filter (where is_error), 0)::float8 as "5xx",
               max(time) as "last seen"
        from analytics_api_requests where ${inRange} and user_id is not null
        group by user_id order by 2 desc, 1 limit 10`),
    },
    auth: {
      totals: {
        logins: num(authTotals?.logins),
        failed: num(authTotals?.failed),
        signups: num(authTotals?.signups),
        passwordResets: num(authTotals?.password_resets),
      },
      series: authSeries.map((r) => bucketOf(r, ['succeeded', 'failed'])),
      bursts: await table(sql`
        select window_start as "window", host(ip_address) as "ip", failures::int as "failures",
               accounts::int as "accounts tried", last_failure as "last"
        from analytics_failed_login_bursts(${since}::timestamptz, ${until}::timestamptz, interval '5 minutes', 5)
        order by failures desc, window_start desc limit 10`),
      failedByIp: await table(sql`
        select host(ip_address) as "ip", count(*)::int as "failures", count(distinct user_id)::int as "accounts",
               max(time) as "last"
        from authentication_log where ${inRange} and not success group by ip_address order by 2 desc, 1 limit 10`),
      failedByUser: await table(sql`
        select user_id as "user", count(*)::int as "failures", count(distinct ip_address)::int as "addresses",
               max(time) as "last"
        from authentication_log where ${inRange} and not success and user_id is not null
        group by user_id order by 2 desc, 1 limit 10`),
    },
    external: {
      totals: {
        calls: num(externalTotals?.calls),
        cost: num(externalTotals?.cost),
        errorRate: num(externalTotals?.error_rate),
        tokens: num(externalTotals?.tokens),
      },
      costByDay: pivot(costByDay, 'service', 'cost'),
      tokens: tokenSeries.map((r) => bucketOf(r, ['input', 'output'])),
      services: await table(sql`
        select coalesce(service, '(unknown)') as "service", count(*)::int as "calls",
               round(100.0 * count(*) filter (where is_error) / count(*), 2) as "error %",
               round(percentile_cont(0.95) within group (order by response_time_ms)::numeric, 1) as "p95 ms",
               round(coalesce(sum(cost_estimate), 0), 4) as "cost USD",
               count(*) filter (where cost_estimate is null)::int as "unpriced"
        from analytics_external_calls where ${inRange} group by 1 order by 5 desc, 2 desc, 1`),
      models: await table(sql`
        select service as "service", model as "model", count(*)::int as "calls",
               coalesce(sum(input_tokens), 0)::float8 as "input tokens",
               coalesce(sum(output_tokens), 0)::float8 as "output tokens",
               round(coalesce(sum(cost_estimate), 0), 4) as "cost USD"
        from analytics_external_calls where ${inRange} and model is not null
        group by 1, 2 order by 6 desc, 1, 2 limit 10`),
      users: await table(sql`
        select coalesce(user_id, '(no user)') as "user", count(*)::int as "calls",
               round(coalesce(sum(cost_estimate), 0), 4) as "cost USD"
        from analytics_external_calls where ${inRange} group by 1 order by 3 desc, 1 limit 10`),
    },
  };
  return data;
}

/**
 * A query's result as a table. Run on the client itself, in arrays: that keeps the column
 * names (and their order) also when no row comes back.
 */
async function readTable(
  client: pg.ClientBase,
  db: Kysely<AnalyticsDatabase>,
  query: RawBuilder<unknown>,
): Promise<ReportTable> {
  const { sql: text, parameters } = query.compile(db);
  const result = await client.query<unknown[]>({ text, values: [...parameters], rowMode: 'array' });
  return { columns: result.fields.map((f) => f.name), rows: result.rows.map((row) => row.map(display)) };
}

function num(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function nullableNum(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

function bucketOf(row: Record<string, unknown>, keys: string[]): ReportBucket {
  return {
    time: row.time as Date,
    values: Object.fromEntries(keys.map((key) => [key, num(row[key])])),
  };
}

/** Long rows (time, key, value) to one bucket per time with a value per key. */
function pivot(rows: Record<string, unknown>[], key: string, value: string): ReportBucket[] {
  const byTime = new Map<number, { time: Date; values: Record<string, number> }>();
  for (const row of rows) {
    const time = row.time as Date;
    const entry = byTime.get(time.getTime()) ?? { time, values: {} };
    entry.values[String(row[key])] = num(row[value]);
    byTime.set(time.getTime(), entry);
  }
  return [...byTime.values()];
}

/** A cell as shown: numbers stay numbers; times as ISO strings without milliseconds. */
function display(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return JSON.stringify(value);
}

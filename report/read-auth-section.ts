import { sql } from 'kysely';
import { countedAuthRows } from './counted-rows.js';
import type { ReportData } from './report-data.js';
import type { ReportPlan } from './report-plan.js';
import type { ReportQueries } from './report-queries.js';
import { bucketOf, num } from './report-values.js';
import { bucketStart, during } from './time-sql.js';

/**
 * The report's authentication section. Event counts (totals, per bucket) come from the
 * rollups, exact. The failures by address and by account read the failed events raw, always
 * every one: they are what an attack looks like, found through the partial index on failures,
 * and a fraction of the events.
 */
export async function readAuthSection(q: ReportQueries, plan: ReportPlan): Promise<ReportData['auth']> {
  const since = plan.range.since.toISOString();
  const until = plan.range.until.toISOString();
  const inRange = during(plan.range);
  const [totals] = await q.rows(sql`
    select coalesce(sum(events) filter (where event_type = 'login' and success), 0)::int as logins,
           coalesce(sum(events) filter (where not success), 0)::int as failed,
           coalesce(sum(events) filter (where event_type = 'signup' and success), 0)::int as signups,
           coalesce(sum(events) filter (where event_type = 'password_reset'), 0)::int as password_resets
    from (${countedAuthRows(plan.split)}) c`);
  const series = await q.rows(sql`
    select ${bucketStart(plan.bucketSeconds)} as time,
           coalesce(sum(events) filter (where success), 0)::int as succeeded,
           coalesce(sum(events) filter (where not success), 0)::int as failed
    from (${countedAuthRows(plan.seriesSplit)}) c group by 1 order by 1`);
  return {
    totals: {
      logins: num(totals?.logins),
      failed: num(totals?.failed),
      signups: num(totals?.signups),
      passwordResets: num(totals?.password_resets),
    },
    series: series.map((r) => bucketOf(r, ['succeeded', 'failed'])),
    bursts: await q.table(sql`
      select window_start as "window", host(ip_address) as "ip", failures::int as "failures",
             accounts::int as "accounts tried", last_failure as "last"
      from analytics_failed_login_bursts(${since}::timestamptz, ${until}::timestamptz, interval '5 minutes', 5)
      order by failures desc, window_start desc limit 10`),
    failedByIp: await q.table(sql`
      select host(ip_address) as "ip", count(*)::int as "failures", count(distinct user_id)::int as "accounts",
             max(time) as "last"
      from authentication_log where ${inRange} and not success group by ip_address order by 2 desc, 1 limit 10`),
    failedByUser: await q.table(sql`
      select user_id as "user", count(*)::int as "failures", count(distinct ip_address)::int as "addresses",
             max(time) as "last"
      from authentication_log where ${inRange} and not success and user_id is not null
      group by user_id order by 2 desc, 1 limit 10`),
  };
}

/**
 * Rows for test/integration/alert-rules.test.ts, relative to the evaluation time: cases built
 * to cross one alert rule's threshold (or, for the boundary, not), and the pipeline snapshots
 * of an ordinary fleet. Statements take the evaluation time as $1; {@link STATS_SQL} also
 * takes snapshots as JSON ($2), so a fleet reads as a list of minutes.
 */

/**
 * A case: rows added to the demo data (statements with the evaluation time as $1, and
 * pipeline snapshots), and the alert instances that fire then (none: `[]`).
 */
export interface Breach {
  name: string;
  sql?: string[];
  stats?: Record<string, unknown>[];
  fires: { rule: string; labels: Record<string, string>; value?: number }[];
}

const FAILED_LOGIN = `insert into authentication_log
  (time, span_id, service_name, user_id, event_type, ip_address, success, error_message)`;
const REQUEST = `insert into api_access_log
  (time, span_id, service_name, endpoint, method, status_code, response_time_ms, sample_weight)`;
const CALL = `insert into external_api_call_log
  (time, span_id, service_name, user_id, service, endpoint, method, status_code, response_time_ms, cost_estimate)`;
export const STATS_SQL = `insert into analytics_pipeline_stats
  (time, service_name, instance_id, host, pid, started_at, final, spool_bytes, exported_rows, dropped_rows, rejected_rows)
  select $1::timestamptz - r.minutes_ago * interval '1 minute', r.service_name, r.instance_id,
    split_part(r.instance_id, '/', 1), split_part(r.instance_id, '/', 2)::int,
    $1::timestamptz - r.started_minutes_ago * interval '1 minute', coalesce(r.final, false),
    coalesce(r.spool_bytes, 0), 100000 - 10 * r.minutes_ago, coalesce(r.dropped_rows, '{}'), coalesce(r.rejected_rows, '{}')
  from jsonb_to_recordset($2) as r(minutes_ago float8, service_name text, instance_id text,
    started_minutes_ago float8, final boolean, spool_bytes bigint, dropped_rows jsonb, rejected_rows jsonb)`;

/** Snapshots as STATS_SQL reads them: one per minute from `from` to `to` minutes ago. */
function snapshots(
  instance: { service_name: string; instance_id: string; started_minutes_ago: number; final?: boolean },
  from: number,
  to: number,
  fields: (minutesAgo: number) => Record<string, unknown> = () => ({}),
): Record<string, unknown>[] {
  const rows = [];
  for (let m = from; m >= to; m--) rows.push({ ...instance, final: false, minutes_ago: m, ...fields(m) });
  if (instance.final) rows.at(-1)!.final = true;
  return rows;
}

export const BREACHES: readonly Breach[] = [
  {
    name: '30 failed logins from one address in 5 minutes',
    sql: [
      `${FAILED_LOGIN} select $1::timestamptz - g * interval '8 seconds', 'fx-a' || g, 'shop-api', 'alice@example.com',
         'login_failed', '198.51.100.23', false, 'invalid credentials' from generate_series(1, 30) g`,
    ],
    fires: [{ rule: 'otel-pga-failed-logins-per-address', labels: { ip: '198.51.100.23' }, value: 30 }],
  },
  {
    name: 'exactly 20 failed logins from one address (the threshold is "more than")',
    sql: [
      `${FAILED_LOGIN} select $1::timestamptz - g * interval '10 seconds', 'fx-b' || g, 'shop-api', 'bob@example.com',
         'login_failed', '198.51.100.23', false, 'invalid credentials' from generate_series(1, 20) g`,
    ],
    fires: [],
  },
  {
    name: 'one address trying 15 accounts once each (spraying)',
    sql: [
      `${FAILED_LOGIN} select $1::timestamptz - g * interval '30 seconds', 'fx-c' || g, 'shop-api', 'victim-' || g || '@example.com',
         'login_failed', '198.51.100.24', false, 'invalid credentials' from generate_series(1, 15) g`,
    ],
    fires: [{ rule: 'otel-pga-accounts-per-address', labels: { ip: '198.51.100.24' }, value: 15 }],
  },
  {
    name: '150 accounts failing from 150 addresses (distributed credential stuffing)',
    sql: [
      `${FAILED_LOGIN} select $1::timestamptz - g * interval '3 seconds', 'fx-d' || g, 'shop-api', 'stuffed-' || g || '@example.com',
         'login_failed', ('192.0.2.' || g)::inet, false, 'invalid credentials' from generate_series(1, 150) g`,
    ],
    fires: [{ rule: 'otel-pga-accounts-failing', labels: { service_name: 'shop-api' } }],
  },
  {
    name: '10 % server errors on one app, and a handful of errors on an app below the floor',
    sql: [
      `${REQUEST} select $1::timestamptz - g * interval '1 second', 'fx-e' || g, 'checkout-api', '/api/pay', 'POST',
         case when g % 10 = 0 then 503 else 200 end, 40, 1 from generate_series(1, 300) g`,
      `${REQUEST} select $1::timestamptz - g * interval '1 second', 'fx-f' || g, 'tiny-api', '/api/x', 'GET', 500, 40, 1
         from generate_series(1, 10) g`,
    ],
    fires: [{ rule: 'otel-pga-api-error-rate', labels: { service_name: 'checkout-api' }, value: 10 }],
  },
  {
    name: 'an app answering in 6 to 9 seconds, and a slower one below the floor',
    sql: [
      `${REQUEST} select $1::timestamptz - g * interval '3 seconds', 'fx-g' || g, 'slow-api', '/api/report', 'GET', 200,
         6000 + 30 * g, 1 from generate_series(1, 100) g`,
      `${REQUEST} select $1::timestamptz - g * interval '3 seconds', 'fx-h' || g, 'rare-api', '/api/once', 'GET', 200,
         20000, 1 from generate_series(1, 20) g`,
    ],
    fires: [{ rule: 'otel-pga-api-p95-latency', labels: { service_name: 'slow-api' } }],
  },
  {
    name: '60 USD on one external service in the last hours (read from the hourly rollup)',
    sql: [
      `${CALL} select $1::timestamptz - g * interval '1 minute', 'fx-i' || g, 'shop-api', null, 'openai',
         '/v1/chat/completions', 'POST', 200, 900, 0.60 from generate_series(1, 100) g`,
    ],
    fires: [{ rule: 'otel-pga-spend-per-service', labels: { service: 'openai' } }],
  },
  {
    name: 'one user spending 8 USD today, and another who spent 100 USD two days ago',
    sql: [
      `${CALL} select $1::timestamptz - g * interval '20 minutes', 'fx-j' || g, 'shop-api', 'user-whale', 'anthropic',
         '/v1/messages', 'POST', 200, 1500, 0.40 from generate_series(1, 20) g`,
      `${CALL} select $1::timestamptz - interval '48 hours' - g * interval '1 minute', 'fx-k' || g, 'shop-api', 'user-old',
         'anthropic', '/v1/messages', 'POST', 200, 1500, 10 from generate_series(1, 10) g`,
    ],
    fires: [{ rule: 'otel-pga-spend-per-user', labels: { user_id: 'user-whale' }, value: 8 }],
  },
  {
    name: 'a process dropping 40 rows and having 2 refused in the window, and a new one dropping 7',
    stats: [
      ...snapshots(
        { service_name: 'shop-api', instance_id: 'web-3/300', started_minutes_ago: 90 },
        30,
        1,
        (m) => ({
          dropped_rows: { queue_full: m > 10 ? 5 : 45 },
          rejected_rows: m > 10 ? {} : { invalid_text: 2 },
        }),
      ),
      ...snapshots(
        { service_name: 'billing-api', instance_id: 'web-4/400', started_minutes_ago: 5 },
        4,
        1,
        () => ({
          dropped_rows: { database_unavailable: 7 },
        }),
      ),
    ],
    fires: [
      {
        rule: 'otel-pga-pipeline-dropped-rows',
        labels: { service_name: 'shop-api', reason: 'queue_full' },
        value: 40,
      },
      {
        rule: 'otel-pga-pipeline-dropped-rows',
        labels: { service_name: 'shop-api', reason: 'rejected:invalid_text' },
        value: 2,
      },
      {
        rule: 'otel-pga-pipeline-dropped-rows',
        labels: { service_name: 'billing-api', reason: 'database_unavailable' },
        value: 7,
      },
    ],
  },
  {
    name: 'a spool growing from nothing to 3 MB',
    stats: snapshots(
      { service_name: 'shop-api', instance_id: 'web-5/500', started_minutes_ago: 120 },
      30,
      1,
      (m) => ({
        spool_bytes: m > 10 ? 0 : (11 - m) * 300_000,
      }),
    ),
    fires: [
      { rule: 'otel-pga-pipeline-spool-growing', labels: { service_name: 'shop-api' }, value: 3_000_000 },
    ],
  },
  {
    name: 'an app whose last snapshot, not a final one, is 20 minutes old',
    stats: snapshots(
      { service_name: 'search-api', instance_id: 'web-6/600', started_minutes_ago: 90 },
      60,
      20,
    ),
    fires: [{ rule: 'otel-pga-pipeline-silent', labels: { service_name: 'search-api' }, value: 20 }],
  },
  {
    name: 'an app that shut down cleanly 30 minutes ago (scaled to zero)',
    stats: snapshots(
      { service_name: 'batch-api', instance_id: 'web-7/700', started_minutes_ago: 90, final: true },
      60,
      30,
    ),
    fires: [],
  },
];

/** What an ordinary fleet writes: steady counters, old drops, a restart, a spool draining. */
export const HEALTHY_PIPELINE = [
  // Dropped 12 rows two hours ago: the counter stays at 12, nothing new.
  ...snapshots(
    { service_name: 'shop-api', instance_id: 'web-1/100', started_minutes_ago: 180 },
    40,
    0,
    () => ({
      dropped_rows: { queue_full: 12 },
    }),
  ),
  // Restarted 20 minutes ago; its predecessor shut down cleanly with a leftover spool and an
  // old drop, and the new process replays that spool.
  ...snapshots(
    { service_name: 'billing-api', instance_id: 'web-2/200', started_minutes_ago: 300, final: true },
    40,
    21,
    () => ({ dropped_rows: { shutdown_timeout: 3 }, spool_bytes: 50_000 }),
  ),
  ...snapshots(
    { service_name: 'billing-api', instance_id: 'web-2/201', started_minutes_ago: 20 },
    19,
    0,
    (m) => ({
      spool_bytes: Math.max(0, (m - 10) * 5_000),
    }),
  ),
];

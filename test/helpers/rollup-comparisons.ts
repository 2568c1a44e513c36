import { expect } from 'vitest';
import type { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';

// The rollups-equal-raw comparisons: the hourly rollups as the raw rows give them, and as they
// were kept (by the triggers, or by incremental roll-ups), and the span stream they are made of.

/** Where the comparisons run their queries: a test database, or a schema on the Citus coordinator. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]>;
}

const HOUR = 3600;

/** Exports `spans` and waits for the exporter's callback. */
export function exportAll(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

/** An hour ago, as span start times take it: inside the rollups' recent hours. */
export function hourAgo(): [number, number] {
  return [Math.floor(Date.now() / 1000) - 3600, 0];
}

/** 20 priced GPT-4o calls an hour ago, 1 USD each as recorded: what `reprice --apply` moves. */
export function pricedCallSpans(): ReadableSpanLike[] {
  return Array.from({ length: 20 }, (_, i) =>
    externalSpan(
      {
        'gen_ai.response.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1000 + i,
        'gen_ai.usage.output_tokens': 100,
        'analytics.cost.usd': 1,
      },
      { startTime: hourAgo() },
    ),
  );
}

/** A varied stream over three hours: routes, statuses, latencies, weights, users, models. */
export function rollupStream(): ReadableSpanLike[] {
  const base = Math.floor(Date.now() / 1000 / HOUR) * HOUR - 2 * HOUR;
  const spans: ReadableSpanLike[] = [];
  for (let i = 0; i < 600; i++) {
    const startTime: [number, number] = [base + ((i * 17) % (3 * HOUR)), 0];
    spans.push(
      apiSpan(
        {
          'url.path': `/items/${i % 4}`,
          'http.route': i % 3 ? '/items/:id' : undefined,
          'http.request.method': i % 5 ? 'GET' : 'POST',
          // Every 11th request got no response: its client went away, or the process stopped.
          'http.response.status_code': i % 11 ? [200, 201, 404, 500, 503][i % 5] : undefined,
          'analytics.no_response': i % 11 ? undefined : i % 2 ? 'client_closed' : 'process_stopped',
          'analytics.sample_weight': i % 7 === 0 ? 4 : 1,
          'enduser.id': `user-${i % 6}`,
        },
        {
          startTime,
          durationMillis: [1, 7, 30, 120, 900, 4000, 12000][i % 7]!,
          serviceName: i % 2 ? 'a' : 'b',
        },
      ),
    );
    if (i % 3 === 0) {
      spans.push(
        authSpan(
          {
            'analytics.auth.event_type': i % 2 ? 'login' : 'login_failed',
            'analytics.auth.success': i % 2 === 1,
            'enduser.id': `user-${i % 6}`,
          },
          { startTime },
        ),
      );
    }
    if (i % 4 === 0) {
      spans.push(
        externalSpan(
          {
            'gen_ai.response.model': i % 8 ? 'gemini-2.5-flash' : 'gpt-4o',
            'gen_ai.usage.input_tokens': 100 + i,
            'gen_ai.usage.output_tokens': 10 + (i % 9),
            'analytics.cost.usd': 0.0001 * (i % 5),
            'http.response.status_code': i % 12 ? 200 : 429,
            'enduser.id': `user-${i % 6}`,
          },
          { startTime, durationMillis: 50 + (i % 30) },
        ),
      );
    }
  }
  return spans;
}

/** Expects every hourly rollup to equal what the raw rows give. */
export async function expectRollupsMatchRows(db: Queryable): Promise<void> {
  const api = await apiRollups(db);
  expect(api.rolled).toEqual(api.raw);
  const other = await otherRollups(db);
  expect(other.rolledAuth).toEqual(other.rawAuth);
  expect(other.rolledCalls).toEqual(other.rawCalls);
}

/** The API rollup as the raw rows give it, and as it was kept. */
export async function apiRollups(db: Queryable) {
  // The buckets as the raw rows give them, one filtered sum per bucket.
  const buckets = Array.from(
    { length: 12 },
    (_, b) =>
      `coalesce(sum(sample_weight) filter (where width_bucket(response_time_ms, analytics_latency_bounds_ms()) = ${b}), 0)`,
  ).join(', ');
  const raw = await db.query(`
    select date_trunc('hour', time, 'UTC') as hour, service_name, endpoint, method,
      case when status_code between 100 and 599 then (status_code / 100)::text || 'xx' else 'none' end as status_class,
      sum(sample_weight) as requests,
      coalesce(sum(sample_weight) filter (where is_error), 0) as errors,
      round(coalesce(sum(response_time_ms * sample_weight), 0)::numeric, 6) as ms,
      array[${buckets}] as buckets
    from analytics_api_requests
    group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5`);
  // Groups whose rows were all deleted or moved stay behind at zero.
  const rolled = await db.query(`
    select hour, service_name, endpoint, method, status_class, requests, errors,
      round(response_time_ms_sum::numeric, 6) as ms, latency_buckets as buckets
    from analytics_api_hourly where requests <> 0 order by 1, 2, 3, 4, 5`);
  return { raw, rolled };
}

/** The auth and external-call rollups as the raw rows give them, and as they were kept. */
export async function otherRollups(db: Queryable) {
  const rawAuth = await db.query(`
    select date_trunc('hour', time, 'UTC') as hour, service_name, event_type, success, count(*)::bigint::text as events
    from authentication_log group by 1, 2, 3, 4 order by 1, 2, 3, 4`);
  const rolledAuth = await db.query(`
    select hour, service_name, event_type, success, events::text from analytics_auth_hourly
    where events <> 0 order by 1, 2, 3, 4`);
  const rawCalls = await db.query(`
    select date_trunc('hour', time, 'UTC') as hour, service_name, service, model, count(*)::text as calls,
      count(*) filter (where is_error)::text as errors, coalesce(sum(cost_estimate), 0)::text as cost,
      coalesce(sum(input_tokens), 0)::text as input, coalesce(sum(output_tokens), 0)::text as output
    from analytics_external_calls group by 1, 2, 3, 4 order by 1, 2, 3, 4`);
  const rolledCalls = await db.query(`
    select hour, service_name, service, model, calls::text, errors::text, cost_usd::text as cost,
      input_tokens::text as input, output_tokens::text as output
    from analytics_external_hourly where calls <> 0 order by 1, 2, 3, 4`);
  return { rawAuth, rolledAuth, rawCalls, rolledCalls };
}

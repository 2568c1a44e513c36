import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forget } from '../../admin/forget.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const HOUR = 3600;

function exportAll(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

/** A varied stream over three hours: routes, statuses, latencies, weights, users, models. */
function stream(): ReadableSpanLike[] {
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

describe('hourly rollups', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('rollups', { writer: true });
    // As the INSERT-only writer, through COPY; then the same spans again (COPY fails on the
    // duplicates, INSERT ... ON CONFLICT DO NOTHING skips them) and a few more rows.
    const exporter = new PostgresSpanExporter({ connectionString: db.writerUrl, statsIntervalMillis: 0 });
    const spans = stream();
    await exportAll(exporter, spans);
    await exporter.forceFlush();
    await exportAll(exporter, [...spans.slice(0, 100), ...stream().slice(0, 50)]);
    await exporter.shutdown();
    expect(exporter.getStats()).toMatchObject({ droppedRows: {}, rejectedRows: {} });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('counts API requests, errors, time and latency buckets exactly as the raw rows do', async () => {
    const { raw, rolled } = await apiRollups(db);
    expect(rolled.length).toBeGreaterThan(10);
    expect(rolled).toEqual(raw);
  });

  it('counts a request cut by the process as a server error, and one its client left as none', async () => {
    const rows = await db.query(`
      select metadata ->> 'no_response' as reason, status_class, bool_and(is_error) as all_errors,
             bool_or(is_error) as any_error, count(*) > 0 as seen
      from analytics_api_requests where metadata ? 'no_response' group by 1, 2 order by 1`);
    expect(rows).toEqual([
      { reason: 'client_closed', status_class: 'none', all_errors: false, any_error: false, seen: true },
      { reason: 'process_stopped', status_class: 'none', all_errors: true, any_error: true, seen: true },
    ]);
  });

  it('counts auth events and external calls, tokens and cost exactly as the raw rows do', async () => {
    const { rawAuth, rolledAuth, rawCalls, rolledCalls } = await otherRollups(db);
    expect(rolledAuth).toEqual(rawAuth);
    expect(rolledCalls.length).toBeGreaterThan(2);
    expect(rolledCalls).toEqual(rawCalls);
  });

  it('gives the INSERT-only writer no right on the rollups themselves', async () => {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: db.writerUrl });
    await client.connect();
    try {
      await expect(client.query('select count(*) from analytics_api_hourly')).rejects.toThrow(
        /permission denied/,
      );
      await expect(
        client.query(`insert into analytics_auth_hourly values (now(), null, 'x', true, 1)`),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });
});

describe('hourly rollups after rows change', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('rollups_changes');
    const exporter = new PostgresSpanExporter({ connectionString: db.url, statsIntervalMillis: 0 });
    await exportAll(exporter, stream());
    await exporter.shutdown();
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function expectRollupsMatchRows(): Promise<void> {
    const api = await apiRollups(db);
    expect(api.rolled).toEqual(api.raw);
    const other = await otherRollups(db);
    expect(other.rolledAuth).toEqual(other.rawAuth);
    expect(other.rolledCalls).toEqual(other.rawCalls);
  }

  it('follow deletes: a user forgotten leaves no requests, events or calls counted', async () => {
    const before = await db.query<{ n: number }>(
      `select count(*)::int as n from api_access_log where user_id = 'user-1'`,
    );
    expect(before[0]!.n).toBeGreaterThan(50);
    const result = await forget(db.url, { userId: 'user-1' });
    expect(result.tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(50);
    await expectRollupsMatchRows();
  });

  it('follow updates, both sides: changed statuses, latencies and costs move between groups', async () => {
    await db.query(`update api_access_log set status_code = 503, response_time_ms = response_time_ms * 3
      where user_id = 'user-2'`);
    await db.query(`update external_api_call_log set cost_estimate = coalesce(cost_estimate, 0) * 2 + 0.5,
      metadata = metadata || '{"response_model":"gpt-5"}' where user_id = 'user-3'`);
    await db.query(`update authentication_log set success = not success where user_id = 'user-4'`);
    // Anonymizing (an update that touches no rolled-up column) changes nothing.
    await forget(db.url, { userId: 'user-5', anonymize: true });
    await expectRollupsMatchRows();
  });

  it("keep what retention removes: a dropped day and the default partition's old rows stay counted", async () => {
    // Rows of yesterday (its own partition) and of three days ago (the default partition).
    await db.query(`
      insert into api_access_log (time, span_id, service_name, endpoint, method, status_code, response_time_ms)
      select now() - make_interval(days => d), 'old-' || d || '-' || i, 'old', '/old', 'GET', 200, 12
      from generate_series(1, 3, 2) d, generate_series(1, 5) i`);
    await expectRollupsMatchRows();
    const pruned = await db.query<{ p: string }>(`select analytics_prune_partitions(interval '0 days') as p`);
    expect(pruned.map((r) => r.p)).toContain(
      `api_access_log_p${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')}`,
    );
    const [left] = await db.query<{ rows: number; requests: number }>(`
      select (select count(*)::int from api_access_log where service_name = 'old') as rows,
             (select sum(requests)::int from analytics_api_hourly where service_name = 'old') as requests`);
    expect(left).toEqual({ rows: 0, requests: 10 });
  });
});

/** The API rollup as the raw rows give it, and as the triggers kept it. */
async function apiRollups(db: TestDatabase) {
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
      round(sum(response_time_ms * sample_weight)::numeric, 6) as ms,
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

/** The auth and external-call rollups as the raw rows give them, and as the triggers kept them. */
async function otherRollups(db: TestDatabase) {
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

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forget } from '../../admin/forget.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import {
  apiRollups,
  expectRollupsMatchRows,
  exportAll,
  otherRollups,
  rollupStream,
} from '../helpers/rollup-comparisons.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('hourly rollups', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('rollups', { writer: true });
    // As the INSERT-only writer, through COPY; then the same spans again (COPY fails on the
    // duplicates, INSERT ... ON CONFLICT DO NOTHING skips them) and a few more rows.
    const exporter = new PostgresSpanExporter({ connectionString: db.writerUrl, statsIntervalMillis: 0 });
    const spans = rollupStream();
    await exportAll(exporter, spans);
    await exporter.forceFlush();
    await exportAll(exporter, [...spans.slice(0, 100), ...rollupStream().slice(0, 50)]);
    await exporter.shutdown();
    expect(exporter.getStats()).toEqual(expect.objectContaining({ droppedRows: {}, rejectedRows: {} }));
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
    await exportAll(exporter, rollupStream());
    await exporter.shutdown();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('follow deletes: a user forgotten leaves no requests, events or calls counted', async () => {
    const before = await db.query<{ n: number }>(
      `select count(*)::int as n from api_access_log where user_id = 'user-1'`,
    );
    expect(before[0]!.n).toBeGreaterThan(50);
    const result = await forget(db.url, { userId: 'user-1' });
    expect(result.tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(50);
    await expectRollupsMatchRows(db);
  });

  it('follow updates, both sides: changed statuses, latencies and costs move between groups', async () => {
    await db.query(`update api_access_log set status_code = 503, response_time_ms = response_time_ms * 3
      where user_id = 'user-2'`);
    await db.query(`update external_api_call_log set cost_estimate = coalesce(cost_estimate, 0) * 2 + 0.5,
      metadata = metadata || '{"response_model":"gpt-5"}' where user_id = 'user-3'`);
    await db.query(`update authentication_log set success = not success where user_id = 'user-4'`);
    // Anonymizing (an update that touches no rolled-up column) changes nothing.
    await forget(db.url, { userId: 'user-5', anonymize: true });
    await expectRollupsMatchRows(db);
  });

  it("keep what retention removes: a dropped day and the default partition's old rows stay counted", async () => {
    // Rows of yesterday (its own partition) and of three days ago (the default partition).
    await db.query(`
      insert into api_access_log (time, span_id, service_name, endpoint, method, status_code, response_time_ms)
      select now() - make_interval(days => d), 'old-' || d || '-' || i, 'old', '/old', 'GET', 200, 12
      from generate_series(1, 3, 2) d, generate_series(1, 5) i`);
    await expectRollupsMatchRows(db);
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

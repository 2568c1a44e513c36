import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../admin/migrate.js';
import { ensurePartitions, parseRetention, prunePartitions } from '../../admin/partitions.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');
const DAY_MS = 86_400_000;

/** The UTC day `offset` days from today, as partition names spell it. */
function day(offset: number): string {
  return new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

/** An HrTime `offset` days from now. */
function at(offset: number): [number, number] {
  return [Math.floor((Date.now() + offset * DAY_MS) / 1000), 0];
}

function exportAll(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

describe('daily partitions', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('partitions', { writer: true });
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function partitionsOf(table: string): Promise<string[]> {
    const rows = await db.query<{ name: string }>(
      `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = $1::regclass order by 1`,
      [table],
    );
    return rows.map((row) => row.name);
  }

  it('migrate creates a default partition and one per UTC day, from yesterday to a week ahead', async () => {
    const expected = [-1, 0, 1, 2, 3, 4, 5, 6, 7].map((d) => `api_access_log_p${day(d)}`);
    expect(await partitionsOf('api_access_log')).toEqual(['api_access_log_default', ...expected]);
    expect(await partitionsOf('authentication_log')).toHaveLength(10);
    expect(await partitionsOf('external_api_call_log')).toHaveLength(10);
  });

  it('bounds partitions at UTC midnight, whatever the session time zone', async () => {
    // One connection: the session's time zone is what is under test. UTC+14: its "today" is
    // tomorrow in UTC for half the day.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("set timezone to 'Pacific/Kiritimati'");
      const made = await client.query<{ name: string }>('select analytics_ensure_partitions(0, 9) as name');
      const api = made.rows.map((r) => r.name).filter((n) => n.startsWith('api_access_log_'));
      expect(api).toEqual([`api_access_log_p${day(8)}`, `api_access_log_p${day(9)}`]);
      await client.query("set timezone to 'UTC'");
      const bounds = await client.query<{ bound: string }>(
        'select pg_get_expr(relpartbound, oid) as bound from pg_class where relname = any($1) order by relname',
        [api],
      );
      const iso = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
      expect(bounds.rows.map((r) => r.bound)).toEqual([
        `FOR VALUES FROM ('${iso(8)} 00:00:00+00') TO ('${iso(9)} 00:00:00+00')`,
        `FOR VALUES FROM ('${iso(9)} 00:00:00+00') TO ('${iso(10)} 00:00:00+00')`,
      ]);
    } finally {
      await client.end();
    }
  });

  it('takes rows far in the past or future in the default partition, and moves them out when their day gets one', async () => {
    const exporter = new PostgresSpanExporter({ connectionString: db.writerUrl, statsIntervalMillis: 0 });
    await exportAll(exporter, [
      apiSpan({}, { startTime: at(-400), spanId: 'a000000000000001' }),
      apiSpan({}, { startTime: at(20), spanId: 'a000000000000002' }),
      authSpan({}, { startTime: at(20) }),
    ]);
    await exporter.shutdown();
    const [before] = await db.query<{ n: number }>('select count(*)::int as n from api_access_log_default');
    expect(before!.n).toBe(2);
    const created = await ensurePartitions(db.url, 21);
    expect(created).toContain(`api_access_log_p${day(20)}`);
    const [moved] = await db.query<{ n: number }>(
      `select count(*)::int as n from api_access_log_p${day(20)} where span_id = 'a000000000000002'`,
    );
    expect(moved!.n).toBe(1);
    const left = await db.query<{ span_id: string }>('select span_id from api_access_log_default');
    expect(left).toEqual([{ span_id: 'a000000000000001' }]);
  });

  it('lets the INSERT-only writer write through COPY and INSERT, but not create partitions', async () => {
    const exporter = new PostgresSpanExporter({ connectionString: db.writerUrl, statsIntervalMillis: 0 });
    const spans = [apiSpan({}, { startTime: at(0) }), externalSpan({}, { startTime: at(0) })];
    await exportAll(exporter, spans);
    await exporter.forceFlush();
    await exportAll(exporter, spans); // written already: COPY fails, INSERT ... ON CONFLICT takes them
    await exporter.shutdown();
    expect(exporter.getStats()).toEqual(expect.objectContaining({ droppedRows: {}, rejectedRows: {} }));
    await expect(ensurePartitions(db.writerUrl, 60)).rejects.toThrow(/permission denied/);
  });

  it('drops exactly the expired partitions, while writes go on', async () => {
    await db.query(`select analytics_ensure_partitions(since => now() - interval '40 days')`);
    expect(await partitionsOf('api_access_log')).toContain(`api_access_log_p${day(-40)}`);
    await db.query(`
      insert into api_access_log (time, span_id)
      select now() - make_interval(days => d), 'old' || d from generate_series(0, 40) d`);
    const exporter = new PostgresSpanExporter({ connectionString: db.writerUrl, statsIntervalMillis: 0 });
    const during = Array.from({ length: 200 }, () => apiSpan({}, { startTime: at(0) }));
    const [dropped] = await Promise.all([
      prunePartitions(db.url, '30 days'),
      exportAll(exporter, during).then(() => exporter.forceFlush()),
    ]);
    await exporter.shutdown();
    // A day's partition goes once the whole day is older than 30 days: days -40 to -31.
    const expired = Array.from({ length: 10 }, (_, i) => day(-40 + i));
    expect(dropped.filter((name) => name.startsWith('api_access_log_')).sort()).toEqual(
      expired.map((d) => `api_access_log_p${d}`),
    );
    const remaining = await partitionsOf('api_access_log');
    expect(remaining).toContain(`api_access_log_p${day(-30)}`);
    expect(remaining).not.toContain(`api_access_log_p${day(-31)}`);
    const [rows] = await db.query<{ old: number; far_past: number }>(`
      select (select count(*)::int from api_access_log where span_id like 'old%') as old,
             (select count(*)::int from api_access_log_default where time < now() - interval '30 days') as far_past`);
    expect(rows).toEqual({ old: 31, far_past: 0 });
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ exportedRows: 200, droppedRows: {}, rejectedRows: {} }),
    );
  });

  it('parses retention ages', () => {
    expect(parseRetention('30d')).toBe('30 days');
    expect(parseRetention(' 12h ')).toBe('12 hours');
    expect(parseRetention('2W')).toBe('2 weeks');
    for (const bad of ['', '0d', '30', 'd', '30 days', '-1d', '1y'])
      expect(parseRetention(bad)).toBeUndefined();
  });

  it('partitions and prune from the command line', async () => {
    const env = { ...process.env, OTEL_ANALYTICS_DATABASE_URL: db.url, OTEL_ANALYTICS_RETENTION: '29d' };
    const { stdout } = await run(process.execPath, [cli, 'partitions', '--days-ahead', '10'], { env });
    expect(stdout).toMatch(/^created \d+ partition\(s\)/m);
    expect(stdout).toMatch(/dropped 3 partition\(s\) older than 29 days: .*_p/);
    await expect(
      run(process.execPath, [cli, 'prune', '--older-than', 'a month'], { env }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--older-than must be an age such as 30d'),
    });
  });
});

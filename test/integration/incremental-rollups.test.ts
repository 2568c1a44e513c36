import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forget } from '../../admin/forget.js';
import { packageRoot } from '../../admin/migrate.js';
import { ensurePartitions } from '../../admin/partitions.js';
import { reprice } from '../../admin/reprice.js';
import { rollUp } from '../../admin/roll-up.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { apiSpan } from '../../dev/spans.js';
import {
  DROP_ROLLUP_TRIGGERS,
  lockWaitOf,
  readRollupsSql,
  rolledUp,
  rowCounts,
  useIncrementalRollups,
  watermarks,
} from '../helpers/incremental-rollups.js';
import {
  expectRollupsMatchRows,
  exportAll,
  hourAgo,
  pricedCallSpans,
  rollupStream,
} from '../helpers/rollup-comparisons.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');

describe('incremental hourly rollups (no triggers)', () => {
  let db: TestDatabase;
  let exporter: PostgresSpanExporter;

  beforeAll(async () => {
    db = await createTestDatabase('incremental_rollups', { writer: true });
    await useIncrementalRollups(db);
    // As the INSERT-only writer, through COPY, then a replay (COPY fails on the duplicates,
    // INSERT ... ON CONFLICT DO NOTHING skips them) with a few more rows.
    exporter = new PostgresSpanExporter({ connectionString: db.writerUrl, statsIntervalMillis: 0 });
    const spans = rollupStream();
    await exportAll(exporter, spans);
    await exporter.forceFlush();
    await exportAll(exporter, [...spans.slice(0, 100), ...rollupStream().slice(0, 50)]);
    await exporter.forceFlush();
  });

  afterAll(async () => {
    await exporter?.shutdown();
    await db?.drop();
  });

  it('adds nothing until it runs, then every row exactly once: the rollups equal the raw rows', async () => {
    const [before] = await db.query<{ n: number }>('select count(*)::int as n from analytics_api_hourly');
    expect(before!.n).toBe(0);
    const counts = await rowCounts(db);
    expect(counts.api_access_log).toBeGreaterThan(600);
    expect(await rolledUp(db.url)).toEqual(counts);
    await expectRollupsMatchRows(db);
    const [lastIds] = await db.query<Record<string, number>>(`
      select (select max(id)::int from api_access_log) as api_access_log,
             (select max(id)::int from authentication_log) as authentication_log,
             (select max(id)::int from external_api_call_log) as external_api_call_log`);
    expect(await watermarks(db)).toEqual(lastIds);
  });

  it('adds nothing on a second run', async () => {
    const marks = await watermarks(db);
    expect(await rolledUp(db.url)).toEqual({
      api_access_log: 0,
      authentication_log: 0,
      external_api_call_log: 0,
    });
    expect(await watermarks(db)).toEqual(marks);
    await expectRollupsMatchRows(db);
  });

  it('adds the rows written since on the next run', async () => {
    await exportAll(exporter, rollupStream().slice(0, 120));
    await exporter.forceFlush();
    const result = await rolledUp(db.url);
    expect(result.api_access_log).toBeGreaterThan(50);
    expect(result.authentication_log).toBeGreaterThan(0);
    expect(result.external_api_call_log).toBeGreaterThan(0);
    await expectRollupsMatchRows(db);
  });

  it('leaves the rows of a writer still in flight, and those after it, for a later run: none lost, none doubled', async () => {
    const held = new pg.Client({ connectionString: db.writerUrl, application_name: 'held writer' });
    await held.connect();
    try {
      await held.query('begin');
      await held.query(`insert into api_access_log (time, span_id, service_name, endpoint, method, status_code, response_time_ms)
                        values (now(), 'held-1', 'held', '/held', 'GET', 200, 5)`);
      // A later writer commits meanwhile: its id is above the held row's.
      await exportAll(exporter, [apiSpan({ 'http.route': '/later' }, { startTime: hourAgo() })]);
      await exporter.forceFlush();
      const marks = await watermarks(db);

      // A writer that outlasts the wait: the table is left as it was, the others go on.
      const [skipped] = await db.query<{ rows: string | null }>(
        `select rows from analytics_roll_up(interval '100 milliseconds') where log_table = 'api_access_log'`,
      );
      expect(skipped!.rows).toBeNull();
      expect(await watermarks(db)).toEqual(marks);

      // One that ends while the roll-up waits for it: both rows are added, once.
      const rolling = rolledUp(db.url);
      await lockWaitOf(db, 'otel-pg-analytics roll-up');
      await held.query('commit');
      expect(await rolling).toEqual({ api_access_log: 2, authentication_log: 0, external_api_call_log: 0 });
    } finally {
      await held.end();
    }
    expect(await rolledUp(db.url)).toEqual({
      api_access_log: 0,
      authentication_log: 0,
      external_api_call_log: 0,
    });
    await expectRollupsMatchRows(db);
  });

  it('follows forget: rows deleted leave the rollups, rolled up already or not yet', async () => {
    // user-1 has rows rolled up and, from this export, rows above the watermark.
    await exportAll(exporter, rollupStream().slice(0, 60));
    await exporter.forceFlush();
    const result = await forget(db.url, { userId: 'user-1' });
    expect(result.tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(100);
    await rollUp(db.url);
    await expectRollupsMatchRows(db);
  });

  it('follows forget --anonymize (it changes nothing the rollups read)', async () => {
    await exportAll(exporter, rollupStream().slice(0, 60));
    await exporter.forceFlush();
    const result = await forget(db.url, { userId: 'user-5', anonymize: true });
    expect(result.tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(50);
    await rollUp(db.url);
    await expectRollupsMatchRows(db);
  });

  it('follows reprice --apply: old costs out, new costs in, rolled up already or not yet', async () => {
    await exportAll(exporter, pricedCallSpans());
    await exporter.forceFlush();
    const [costBefore] = await db.query<{ usd: string }>(
      'select sum(cost_usd)::text as usd from analytics_external_hourly',
    );
    const summary = await reprice(db.url, { since: new Date(Date.now() - 4 * 3_600_000), apply: true });
    expect(summary.changed).toBeGreaterThan(20);
    await rollUp(db.url);
    await expectRollupsMatchRows(db);
    const [costAfter] = await db.query<{ usd: string }>(
      'select sum(cost_usd)::text as usd from analytics_external_hourly',
    );
    expect(costAfter!.usd).not.toBe(costBefore!.usd);
  });

  it('runs with `partitions` (ensurePartitions, and the command, which prints the rows rolled up)', async () => {
    await exportAll(exporter, [apiSpan({}, { startTime: hourAgo() })]);
    await exporter.forceFlush();
    await ensurePartitions(db.url);
    expect(await rolledUp(db.url)).toEqual({
      api_access_log: 0,
      authentication_log: 0,
      external_api_call_log: 0,
    });
    await exportAll(exporter, [apiSpan({}, { startTime: hourAgo() }), apiSpan({}, { startTime: hourAgo() })]);
    await exporter.forceFlush();
    const env = { ...process.env, OTEL_ANALYTICS_DATABASE_URL: db.url };
    const { stdout } = await run(process.execPath, [cli, 'partitions'], { env });
    expect(stdout).toMatch(
      /^rolled up 2 row\(s\): api_access_log 2, authentication_log 0, external_api_call_log 0$/m,
    );
    await expectRollupsMatchRows(db);
  });

  it('is for the owner only: the writer may not roll up, adjust or move the watermarks', async () => {
    const writer = new pg.Client({ connectionString: db.writerUrl });
    await writer.connect();
    try {
      for (const statement of [
        'select * from analytics_roll_up()',
        'select * from analytics_rollup_start_at_current()',
        `select analytics_rollup_adjust('api_access_log', -1, array[1]::bigint[], array[now()])`,
        'select analytics_roll_up_api_rows(1, 0, 100)',
        'select * from analytics_rollup_progress',
      ])
        await expect(writer.query(statement), statement).rejects.toThrow(/permission denied/);
    } finally {
      await writer.end();
    }
  });

  it('refuses a snapshot older than its wait (REPEATABLE READ), and an id sequence that caches', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('begin isolation level repeatable read');
      await expect(client.query('select * from analytics_roll_up()')).rejects.toThrow(/READ COMMITTED/);
      await client.query('rollback');
      await client.query('begin');
      await client.query(`alter sequence ${await sequenceOf(client, 'authentication_log')} cache 20`);
      await expect(client.query('select * from analytics_roll_up()')).rejects.toThrow(/caches values/);
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });
});

describe('incremental rollups next to the triggers', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('incremental_rollups_triggers');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('aggregate exactly as the triggers do, on the same rows, to the last column', async () => {
    await db.query(readRollupsSql());
    const exporter = new PostgresSpanExporter({ connectionString: db.url, statsIntervalMillis: 0 });
    await exportAll(exporter, rollupStream());
    await exporter.shutdown();
    // Rows the exporter never writes, with the odd values the aggregations must treat alike.
    await db.query(`
      insert into api_access_log (time, span_id, service_name, endpoint, method, status_code, response_time_ms, error_message, sample_weight, metadata)
      values (now(), 'odd-1', null, null, null, null, null, null, 1, null),
             (now(), 'odd-2', 'x', '/a', 'GET', 99, 0, 'boom', 0.25, '{"no_response":"client_closed"}'),
             (now(), 'odd-3', 'x', '/a', 'GET', 700, 1e9, null, 2, '[1]'),
             (now(), 'odd-4', 'x', '/a', 'GET', 404, 5, null, 1, '{"no_response":"process_stopped"}')`);
    await db.query(`
      insert into authentication_log (time, span_id, service_name, event_type, success)
      values (now(), 'odd-5', null, 'login', false), (now(), 'odd-6', 'x', 'logout', true)`);
    await db.query(`
      insert into external_api_call_log (time, span_id, service_name, service, status_code, response_time_ms, cost_estimate, error_message, metadata)
      values (now(), 'odd-7', null, null, null, null, null, null, null),
             (now(), 'odd-8', 'x', 'openai', 200, 3, 0.5, 'late', '{"request_model":"m","input_tokens":"12","output_tokens":7}'),
             (now(), 'odd-9', 'x', 'openai', 399, 4, 0.25, null, '{"response_model":"n","request_model":"m","input_tokens":3.5}'),
             (now(), 'odd-10', 'x', 'openai', 500, null, null, null, '"text"')`);
    // With the triggers on, a roll-up only moves the watermarks: the triggers added the rows.
    expect(await rolledUp(db.url)).toEqual({
      api_access_log: 0,
      authentication_log: 0,
      external_api_call_log: 0,
    });
    await expectRollupsMatchRows(db);
    const byTriggers = await rollupTables(db);

    // Now from the rows alone.
    await db.query(DROP_ROLLUP_TRIGGERS);
    await db.query(`truncate analytics_api_hourly, analytics_auth_hourly, analytics_external_hourly;
                    update analytics_rollup_progress set rolled_up_to = 0`);
    expect(await rolledUp(db.url)).toEqual(await rowCounts(db));
    expect(await rollupTables(db)).toEqual(byTriggers);
  });

  it('take over from the triggers without counting a row twice: analytics_rollup_start_at_current()', async () => {
    await db.query(`truncate api_access_log, authentication_log, external_api_call_log;
                    truncate analytics_api_hourly, analytics_auth_hourly, analytics_external_hourly;
                    ${readSchemaTriggers()}`);
    const exporter = new PostgresSpanExporter({ connectionString: db.url, statsIntervalMillis: 0 });
    await exportAll(exporter, rollupStream());
    await exporter.forceFlush();
    // As migrate does it on Citus: the triggers dropped and the watermarks set in one transaction.
    await db.query(`begin; ${DROP_ROLLUP_TRIGGERS}; select analytics_rollup_start_at_current(); commit`);
    await expectRollupsMatchRows(db);
    const before = await rowCounts(db);
    await exportAll(exporter, rollupStream().slice(0, 200));
    await exporter.shutdown();
    const after = await rowCounts(db);
    expect(await rolledUp(db.url)).toEqual({
      api_access_log: after.api_access_log! - before.api_access_log!,
      authentication_log: after.authentication_log! - before.authentication_log!,
      external_api_call_log: after.external_api_call_log! - before.external_api_call_log!,
    });
    await expectRollupsMatchRows(db);
  });
});

/** The three rollup tables, whole, in key order (float sums to 6 decimals). */
async function rollupTables(db: TestDatabase) {
  return {
    api: await db.query(`
      select hour, service_name, endpoint, method, status_class, requests, errors,
        round(response_time_ms_sum::numeric, 6)::text as ms, latency_buckets
      from analytics_api_hourly order by 1, 2, 3, 4, 5`),
    auth: await db.query('select * from analytics_auth_hourly order by 1, 2, 3, 4'),
    external: await db.query(`
      select hour, service_name, service, model, calls, errors, cost_usd::text, input_tokens::text,
        output_tokens::text, round(response_time_ms_sum::numeric, 6)::text as ms
      from analytics_external_hourly order by 1, 2, 3, 4`),
  };
}

/** schema.sql's rollup triggers, created again. */
function readSchemaTriggers(): string {
  const schema = readFileSync(path.join(packageRoot(), 'schema.sql'), 'utf8');
  return schema.match(/^create or replace trigger [\s\S]*?;$/gm)!.join('\n');
}

async function sequenceOf(client: pg.Client, table: string): Promise<string> {
  const { rows } = await client.query<{ seq: string }>(`select pg_get_serial_sequence($1, 'id') as seq`, [
    table,
  ]);
  return rows[0]!.seq;
}

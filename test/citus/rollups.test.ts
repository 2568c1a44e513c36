import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forget } from '../../admin/forget.js';
import { migrate } from '../../admin/migrate.js';
import { ensurePartitions } from '../../admin/partitions.js';
import { reprice } from '../../admin/reprice.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { apiSpan } from '../../dev/spans.js';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';
import {
  DROP_ROLLUP_TRIGGERS,
  lockWaitOf,
  readRollupsSql,
  rolledUp,
  rowCounts,
  watermarks,
} from '../helpers/incremental-rollups.js';
import {
  expectRollupsMatchRows,
  exportAll,
  hourAgo,
  pricedCallSpans,
  rollupStream,
} from '../helpers/rollup-comparisons.js';

const LOG_TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'];

/**
 * Distributes the log tables by trace_id, as the distributed layout does, where `migrate` did
 * not (its layout step not there yet): the rollup triggers dropped (Citus refuses them), keys
 * with trace_id, then incremental rollups.
 */
async function distributeUnlessMigrated(citus: CitusSchema): Promise<void> {
  const [distributed] = await citus.query<{ n: number }>(
    `select count(*)::int as n from pg_dist_partition where logicalrelid = any($1::regclass[])`,
    [LOG_TABLES],
  );
  if (distributed!.n === 0) {
    await citus.query(DROP_ROLLUP_TRIGGERS);
    for (const table of LOG_TABLES) {
      await citus.query(`
        alter table ${table} drop constraint ${table}_pkey, drop constraint ${table}_span_id_time_key;
        alter table ${table} alter column trace_id set not null,
          add primary key (time, id, trace_id), add unique (span_id, time, trace_id)`);
      await citus.query(`select create_distributed_table($1, 'trace_id', colocate_with => $2)`, [
        table,
        table === 'api_access_log' ? 'default' : 'api_access_log',
      ]);
    }
  }
  const [rollups] = await citus.query<{ present: boolean }>(
    `select to_regproc('analytics_roll_up') is not null as present`,
  );
  if (!rollups!.present) await citus.query(readRollupsSql());
}

describeCitus('incremental hourly rollups on Citus (distributed log tables)', () => {
  let citus: CitusSchema;
  let exporter: PostgresSpanExporter;

  beforeAll(async () => {
    citus = await createCitusSchema('rollups');
    await migrate(citus.url);
    await distributeUnlessMigrated(citus);
    // Through the coordinator, in two batches. (A replay of rows written already is the
    // exporter's suite's concern: it only leaves gaps in the ids, which single-node tests.)
    exporter = new PostgresSpanExporter({ connectionString: citus.url, statsIntervalMillis: 0 });
    await exportAll(exporter, rollupStream());
    await exporter.forceFlush();
    await exportAll(exporter, rollupStream().slice(0, 50));
    await exporter.forceFlush();
    expect(exporter.getStats()).toEqual(expect.objectContaining({ droppedRows: {}, rejectedRows: {} }));
  });

  afterAll(async () => {
    await exporter?.shutdown();
    await citus?.drop();
  });

  it('has the log tables distributed, without rollup triggers, and their rows on both workers', async () => {
    const tables = await citus.query<{ table: string; column: string }>(
      `
      select logicalrelid::regclass::text as table, column_to_column_name(logicalrelid, partkey) as column
      from pg_dist_partition where logicalrelid = any($1::regclass[]) order by 1`,
      [LOG_TABLES],
    );
    expect(tables).toEqual(LOG_TABLES.map((table) => ({ table, column: 'trace_id' })));
    const [triggers] = await citus.query<{ n: number }>(
      `select count(*)::int as n from pg_trigger where not tgisinternal and tgrelid = any($1::regclass[])`,
      [LOG_TABLES],
    );
    expect(triggers!.n).toBe(0);
    for (const table of LOG_TABLES) {
      const shards = await citus.query<{ shard: string }>(
        `select distinct get_shard_id_for_distribution_column($1, trace_id)::text as shard from ${table}`,
        [table],
      );
      const [nodes] = await citus.query<{ n: number }>(
        `select count(distinct groupid)::int as n from pg_dist_placement where shardid = any($1::bigint[])`,
        [shards.map((row) => row.shard)],
      );
      expect(nodes!.n, table).toBe(2);
    }
  });

  it('adds every row exactly once when it runs: the rollups equal the raw rows', async () => {
    const [before] = await citus.query<{ n: number }>('select count(*)::int as n from analytics_api_hourly');
    expect(before!.n).toBe(0);
    const counts = await rowCounts(citus);
    expect(counts.api_access_log).toBeGreaterThan(600);
    expect(await rolledUp(citus.url)).toEqual(counts);
    await expectRollupsMatchRows(citus);
  });

  it('adds nothing on a second run, and the rows written since on the next', async () => {
    const marks = await watermarks(citus);
    expect(await rolledUp(citus.url)).toEqual({
      api_access_log: 0,
      authentication_log: 0,
      external_api_call_log: 0,
    });
    expect(await watermarks(citus)).toEqual(marks);
    await exportAll(exporter, rollupStream().slice(0, 120));
    await exporter.forceFlush();
    const result = await rolledUp(citus.url);
    expect(result.api_access_log).toBeGreaterThan(50);
    await expectRollupsMatchRows(citus);
  });

  it('leaves the rows of a writer still in flight for a later run, or waits for it: none lost, none doubled', async () => {
    const held = new pg.Client({ connectionString: citus.url, application_name: 'held writer' });
    await held.connect();
    try {
      await held.query('begin');
      await held.query(`insert into api_access_log (time, trace_id, span_id, service_name, endpoint, method, status_code, response_time_ms)
                        values (now(), md5('held-1'), 'held-1', 'held', '/held', 'GET', 200, 5)`);
      await exportAll(exporter, [apiSpan({ 'http.route': '/later' }, { startTime: hourAgo() })]);
      await exporter.forceFlush();
      const marks = await watermarks(citus);
      const [skipped] = await citus.query<{ rows: string | null }>(
        `select rows from analytics_roll_up(interval '100 milliseconds') where log_table = 'api_access_log'`,
      );
      expect(skipped!.rows).toBeNull();
      expect(await watermarks(citus)).toEqual(marks);

      const rolling = rolledUp(citus.url);
      await lockWaitOf(citus, 'otel-pg-analytics roll-up');
      await held.query('commit');
      expect(await rolling).toEqual({ api_access_log: 2, authentication_log: 0, external_api_call_log: 0 });
    } finally {
      await held.end();
    }
    await expectRollupsMatchRows(citus);
  });

  it('follows forget and forget --anonymize, rows rolled up already or not yet', async () => {
    await exportAll(exporter, rollupStream().slice(0, 60));
    await exporter.forceFlush();
    const deleted = await forget(citus.url, { userId: 'user-1' });
    expect(deleted.tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(100);
    const anonymized = await forget(citus.url, { userId: 'user-5', anonymize: true });
    expect(anonymized.tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(50);
    await rolledUp(citus.url);
    await expectRollupsMatchRows(citus);
  });

  it('follows reprice --apply: old costs out, new costs in', async () => {
    await exportAll(exporter, pricedCallSpans());
    await exporter.forceFlush();
    const summary = await reprice(citus.url, { since: new Date(Date.now() - 4 * 3_600_000), apply: true });
    expect(summary.changed).toBeGreaterThan(20);
    await rolledUp(citus.url);
    await expectRollupsMatchRows(citus);
  });

  it('runs with ensurePartitions (`otel-pg-analytics partitions`)', async () => {
    await exportAll(exporter, [apiSpan({}, { startTime: hourAgo() })]);
    await exporter.forceFlush();
    await ensurePartitions(citus.url);
    expect(await rolledUp(citus.url)).toEqual({
      api_access_log: 0,
      authentication_log: 0,
      external_api_call_log: 0,
    });
    await expectRollupsMatchRows(citus);
  });
});

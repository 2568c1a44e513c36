import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { migrate } from '../../admin/migrate.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { PostgresSpanExporterConfig } from '../../exporter/postgres-span-exporter-config.js';
import { spanToRow } from '../../exporter/span-to-row.js';
import { Spool } from '../../exporter/spool/spool.js';
import { spoolTarget } from '../../exporter/spool/spool-target.js';
import { copyBatch } from '../../exporter/writer/copy-batch.js';
import { writeBatch } from '../../exporter/writer/write-batch.js';
import { Redactor } from '../../src/privacy/redactor.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';
import { LOG_TABLES, logRowCounts, rowsPerWorker } from '../helpers/citus-rows.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

// Distributing the log tables and their daily partitions makes about a thousand shards.
const MIGRATE_TIMEOUT_MILLIS = 120_000;

/** API, auth and external spans of the last hour, `n` of each kind (random trace ids). */
function mixedSpans(n: number): ReadableSpanLike[] {
  const now = Math.floor(Date.now() / 1000);
  const at = (i: number): [number, number] => [now - ((i * 7) % 3600), (i * 1_000_003) % 1e9];
  return Array.from({ length: n }, (_, i) => [
    apiSpan({ 'http.route': `/items/${i % 5}` }, { startTime: at(i) }),
    authSpan({ 'enduser.id': `user-${i % 7}` }, { startTime: at(i) }),
    externalSpan({ 'analytics.cost.usd': 0.001 * (i % 3) }, { startTime: at(i) }),
  ]).flat();
}

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

describeCitus('the exporter on the distributed layout (Citus)', () => {
  let citus: CitusSchema;
  let proxy: TcpProxy;
  let spoolDir: string;
  let exporters: PostgresSpanExporter[] = [];

  /**
   * An exporter on the coordinator with short retry times; when `proxied`, through the proxy
   * and with the test's spool directory.
   */
  function newExporter(
    options: Partial<PostgresSpanExporterConfig> & { proxied?: boolean } = {},
  ): PostgresSpanExporter {
    const { proxied = false, ...config } = options;
    const exporter = new PostgresSpanExporter({
      connectionString: proxied ? proxy.urlFor(citus.url) : citus.url,
      ...(proxied ? { spoolDir } : {}),
      retryDeadlineMillis: 300,
      initialRetryDelayMillis: 20,
      maxRetryDelayMillis: 100,
      connectionTimeoutMillis: 2000,
      statsIntervalMillis: 0,
      ...config,
    });
    exporters.push(exporter);
    return exporter;
  }

  /** Every span of the log tables is there once: as many distinct span ids as rows. */
  async function expectEachRowOnce(): Promise<void> {
    for (const table of LOG_TABLES) {
      const [row] = await citus.query<{ rows: number; distinct: number }>(
        `select count(*)::int as rows, count(distinct (span_id, trace_id))::int as distinct from ${table}`,
      );
      expect(row!.distinct, table).toBe(row!.rows);
    }
  }

  beforeAll(async () => {
    citus = await createCitusSchema('exporter');
    const result = await migrate(citus.url);
    expect(result.layout).toBe('distributed');
    const url = new URL(citus.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  }, MIGRATE_TIMEOUT_MILLIS);

  afterAll(async () => {
    await proxy?.close();
    await citus?.drop();
  });

  beforeEach(() => {
    spoolDir = mkdtempSync(path.join(os.tmpdir(), 'pga-citus-exporter-'));
    proxy.refuse(false);
  });

  afterEach(async () => {
    proxy.refuse(false);
    await Promise.all(exporters.map((e) => e.shutdown()));
    exporters = [];
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('writes API, auth and external spans through the coordinator by COPY, each row once, on both workers', async () => {
    const before = await logRowCounts(citus);
    const exporter = newExporter();
    await exportSpans(exporter, mixedSpans(100));
    await exporter.forceFlush();
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ exportedRows: 300, droppedRows: {}, rejectedRows: {} }),
    );
    const after = await logRowCounts(citus);
    for (const table of LOG_TABLES) {
      expect(after[table]! - before[table]!, table).toBe(100);
      const perWorker = await rowsPerWorker(citus, table);
      expect(Object.keys(perWorker), table).toHaveLength(2);
      expect(
        Object.values(perWorker).every((n) => n > 0),
        table,
      ).toBe(true);
      expect(
        Object.values(perWorker).reduce((a, b) => a + b),
        table,
      ).toBe(after[table]);
    }
    await expectEachRowOnce();
  });

  it('adds only the new rows when spans written already come again, alone or mixed with new ones', async () => {
    const spans = mixedSpans(40);
    const exporter = newExporter();
    await exportSpans(exporter, spans);
    await exporter.forceFlush();
    const before = await logRowCounts(citus);

    // Written already (a retry after a lost acknowledgement): the COPY fails on the keys and
    // INSERT ... ON CONFLICT DO NOTHING writes none of them again.
    await exportSpans(exporter, spans);
    await exporter.forceFlush();
    expect(await logRowCounts(citus)).toEqual(before);

    // Old and new in one batch: the new ones are written.
    await exportSpans(exporter, [...spans.slice(0, 30), ...mixedSpans(5)]);
    await exporter.forceFlush();
    const after = await logRowCounts(citus);
    for (const table of LOG_TABLES) expect(after[table]! - before[table]!, table).toBe(5);
    // exportedRows counts the rows handed to Postgres, a row written twice twice (its TSDoc).
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ exportedRows: 120 + 120 + 45, droppedRows: {}, rejectedRows: {} }),
    );
    await expectEachRowOnce();
  });

  it('gets a COPY of rows written already refused as XX000 (what a worker refused, passed on by Citus), and falls back', async () => {
    const pool = new pg.Pool({ connectionString: citus.url, max: 1 });
    try {
      const rows = [externalSpan(), externalSpan()].map((span) => spanToRow(span, new Redactor())!.row);
      await copyBatch(pool, 'external_api_call_log', rows, 10_000);
      // Not 23505 as on one PostgreSQL: the batch writer takes XX000 from a COPY as "maybe
      // written already" and writes the batch again by INSERT ... ON CONFLICT DO NOTHING.
      await expect(copyBatch(pool, 'external_api_call_log', rows, 10_000)).rejects.toMatchObject({
        code: 'XX000',
        message: expect.stringMatching(/^duplicate key value violates unique constraint/),
      });
    } finally {
      await pool.end();
    }
  });

  it('writeBatch returns the rows it inserted, not the rows it was given', async () => {
    const pool = new pg.Pool({ connectionString: citus.url, max: 1 });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      const redactor = new Redactor();
      const rowsOf = (spans: ReadableSpanLike[]) => spans.map((span) => spanToRow(span, redactor)!.row);
      const old = [externalSpan(), externalSpan(), externalSpan()];
      expect(await writeBatch(db, 'external_api_call_log', rowsOf(old))).toBe(3);
      expect(await writeBatch(db, 'external_api_call_log', rowsOf(old))).toBe(0);
      const mixed = [...old, externalSpan(), externalSpan()];
      expect(await writeBatch(db, 'external_api_call_log', rowsOf(mixed))).toBe(2);
      // A batch with the same row twice writes it once.
      const twice = externalSpan();
      expect(await writeBatch(db, 'external_api_call_log', rowsOf([twice, twice]))).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('replays a spool exactly once: rows Postgres had already, and rows it had not', async () => {
    const written = mixedSpans(20);
    const direct = newExporter();
    await exportSpans(direct, written);
    await direct.forceFlush();
    const before = await logRowCounts(citus);

    // Postgres away: new rows go to the spool. The rows written already are in it too, as if
    // their acknowledgement had been lost with the connection.
    proxy.refuse(true);
    const exporter = newExporter({ proxied: true });
    const fresh = mixedSpans(15);
    await exportSpans(exporter, [...written.slice(0, 30), ...fresh]);
    await exporter.forceFlush();
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ spooledRows: 75, droppedRows: {}, exportedRows: 0 }),
    );

    // Back: the probe replays the spool by INSERT ... ON CONFLICT DO NOTHING.
    proxy.refuse(false);
    await vi.waitFor(() => expect(exporter.getStats().replayedRows).toBe(75), {
      timeout: 20_000,
      interval: 100,
    });
    await vi.waitFor(() => expect(exporter.getStats().spoolBytes).toBe(0));
    const after = await logRowCounts(citus);
    for (const table of LOG_TABLES) expect(after[table]! - before[table]!, table).toBe(15);
    expect(exporter.getStats()).toEqual(expect.objectContaining({ droppedRows: {}, rejectedRows: {} }));
    await expectEachRowOnce();
  });

  it('replays a spool left by an earlier process, whose rows were all written already, without doubling them', async () => {
    const written = mixedSpans(10);
    const direct = newExporter();
    await exportSpans(direct, written);
    await direct.forceFlush();
    const before = await logRowCounts(citus);
    const leftover = await Spool.open({ directory: spoolDir, target: spoolTarget(proxy.urlFor(citus.url)) });
    const redactor = new Redactor();
    await leftover.append(written.map((span) => spanToRow(span, redactor)!));
    await leftover.close();

    const exporter = newExporter({ proxied: true });
    await exporter.shutdown();
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ replayedRows: 30, droppedRows: {}, rejectedRows: {} }),
    );
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(await logRowCounts(citus)).toEqual(before);
    await expectEachRowOnce();
  });
});

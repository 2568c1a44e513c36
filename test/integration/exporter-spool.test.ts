import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { PostgresSpanExporterConfig } from '../../exporter/postgres-span-exporter-config.js';
import { spanToRow } from '../../exporter/span-to-row.js';
import { Spool } from '../../exporter/spool/spool.js';
import { spoolTarget } from '../../exporter/spool/spool-target.js';
import { Redactor } from '../../src/privacy/redactor.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { apiSpan, authSpan } from '../../dev/spans.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;
let proxy: TcpProxy;
let spoolDir: string;
let exporters: PostgresSpanExporter[] = [];
let warnings: string[] = [];
let stopCapture: () => void = () => {};

/** An exporter that reaches Postgres through the proxy, with short retry and probe times. */
function newExporter(options: Partial<PostgresSpanExporterConfig> = {}): PostgresSpanExporter {
  const exporter = new PostgresSpanExporter({
    connectionString: proxy.urlFor(db.url),
    spoolDir,
    retryDeadlineMillis: 300,
    initialRetryDelayMillis: 20,
    maxRetryDelayMillis: 100,
    connectionTimeoutMillis: 500,
    statementTimeoutMillis: 1000,
    statsIntervalMillis: 0,
    ...options,
  });
  exporters.push(exporter);
  return exporter;
}

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

/** Rows in api_access_log, and distinct span ids among them. */
async function apiRows(): Promise<{ rows: number; distinct: number }> {
  const [row] = await db.query<{ rows: number; distinct: number }>(
    'select count(*)::int as rows, count(distinct span_id)::int as distinct from api_access_log',
  );
  return row!;
}

const spans = (n: number) => Array.from({ length: n }, () => apiSpan());

beforeAll(async () => {
  db = await createTestDatabase('exporter_spool');
  const url = new URL(db.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});

afterAll(async () => {
  await proxy.close();
  await db.drop();
});

beforeEach(async () => {
  ({ warnings, stop: stopCapture } = captureDiagWarnings());
  spoolDir = mkdtempSync(path.join(os.tmpdir(), 'pga-exporter-spool-'));
  proxy.refuse(false);
  proxy.stall(false);
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
});

afterEach(async () => {
  proxy.refuse(false);
  proxy.stall(false);
  await Promise.all(exporters.map((e) => e.shutdown()));
  exporters = [];
  stopCapture();
  rmSync(spoolDir, { recursive: true, force: true });
});

describe('PostgresSpanExporter with a spool', () => {
  it('spools rows while Postgres refuses connections past the retry deadline, then writes each once when it is back', async () => {
    proxy.refuse(true);
    const exporter = newExporter();
    await exportSpans(exporter, spans(50));
    await exporter.forceFlush();
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ spooledRows: 50, droppedRows: {}, exportedRows: 0 }),
    );
    expect(exporter.getStats().spoolBytes).toBeGreaterThan(0);
    // Still down: more rows go straight to disk, without waiting out the deadline again.
    await exportSpans(exporter, spans(10));
    await exporter.forceFlush();
    expect(exporter.getStats().spooledRows).toBe(60);
    expect(warnings.filter((w) => w.includes('rows go to the spool'))).toHaveLength(1);

    proxy.refuse(false);
    // The probe finds Postgres back and replays the spool: wait for the rows, not for a time.
    await vi.waitFor(async () => expect(await apiRows()).toEqual({ rows: 60, distinct: 60 }), {
      timeout: 10_000,
      interval: 50,
    });
    await vi.waitFor(() => expect(exporter.getStats().spoolBytes).toBe(0));
    expect(exporter.getStats()).toEqual(expect.objectContaining({ replayedRows: 60, droppedRows: {} }));
    // Writing resumes directly once the spool is empty.
    await exportSpans(exporter, spans(5));
    await exporter.forceFlush();
    expect(await apiRows()).toEqual({ rows: 65, distinct: 65 });
    expect(exporter.getStats().exportedRows).toBe(5);
  });

  it('replays at shutdown when Postgres came back, leaving nothing on disk', async () => {
    proxy.refuse(true);
    const exporter = newExporter({ maxRetryDelayMillis: 60_000 });
    await exportSpans(exporter, spans(20));
    await exporter.forceFlush();
    expect(exporter.getStats().spooledRows).toBe(20);
    proxy.refuse(false);
    // The next probe is a minute away: shutdown does not wait for it.
    await exporter.shutdown();
    expect(await apiRows()).toEqual({ rows: 20, distinct: 20 });
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('keeps what it could not write in the spool at shutdown, for the next process to replay once', async () => {
    proxy.refuse(true);
    const first = newExporter({ shutdownTimeoutMillis: 1000 });
    await exportSpans(first, [...spans(30), authSpan()]);
    await first.shutdown();
    expect(first.getStats()).toEqual(expect.objectContaining({ spooledRows: 31, droppedRows: {} }));
    expect(readdirSync(spoolDir)).toHaveLength(1);

    proxy.refuse(false);
    const next = newExporter();
    await next.shutdown();
    expect(await apiRows()).toEqual({ rows: 30, distinct: 30 });
    const [auth] = await db.query<{ n: number }>('select count(*)::int as n from authentication_log');
    expect(auth!.n).toBe(1);
    expect(next.getStats()).toMatchObject({ replayedRows: 31 });
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('spills the oldest rows to disk when its queue fills during an outage, instead of dropping them', async () => {
    proxy.refuse(true);
    const exporter = newExporter({ maxQueueRows: 100, maxBatchRows: 20, retryDeadlineMillis: 2000 });
    // Batches arrive as a BatchSpanProcessor sends them: apart, not all in one tick.
    for (let i = 0; i < 10; i++) {
      await exportSpans(exporter, spans(30));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await exporter.forceFlush();
    const stats = exporter.getStats();
    expect(stats.droppedRows).toEqual({});
    expect(stats.spooledRows).toBe(300);
    proxy.refuse(false);
    await exporter.shutdown();
    expect(await apiRows()).toEqual({ rows: 300, distinct: 300 });
  });

  it('writes every row exactly once when connections are cut while it writes', async () => {
    const exporter = newExporter({ maxBatchRows: 50 });
    for (let i = 0; i < 20; i++) {
      await exportSpans(exporter, spans(50));
      if (i % 4 === 1) proxy.cut();
    }
    await exporter.shutdown();
    expect(await apiRows()).toEqual({ rows: 1000, distinct: 1000 });
    expect(exporter.getStats().droppedRows).toEqual({});
  });

  it('gets out of a black-holed connection by its client-side timeout, and spools', async () => {
    const exporter = newExporter({ statementTimeoutMillis: 300, connectionTimeoutMillis: 300 });
    await exportSpans(exporter, spans(1));
    await exporter.forceFlush();
    proxy.stall(true);
    await exportSpans(exporter, spans(10));
    await exporter.forceFlush();
    expect(exporter.getStats()).toEqual(expect.objectContaining({ spooledRows: 10, droppedRows: {} }));
    proxy.stall(false);
    await exporter.shutdown();
    expect(await apiRows()).toEqual({ rows: 11, distinct: 11 });
  });

  it('replays rows already written (an acknowledgement lost with the connection) without doubling them', async () => {
    const written = spans(25);
    const direct = new PostgresSpanExporter({ connectionString: db.url, statsIntervalMillis: 0 });
    exporters.push(direct);
    await exportSpans(direct, written);
    await direct.forceFlush();
    // The same rows also left in a spool, as if the acknowledgement was lost and the process died.
    const leftover = await Spool.open({ directory: spoolDir, target: spoolTarget(proxy.urlFor(db.url)) });
    await leftover.append(written.map((span) => spanToRow(span, new Redactor())!));
    await leftover.close();
    const exporter = newExporter();
    await exporter.shutdown();
    expect(exporter.getStats().replayedRows).toBe(25);
    expect(await apiRows()).toEqual({ rows: 25, distinct: 25 });
  });

  it('counts the rows a full spool refuses, so every row is accounted for', async () => {
    proxy.refuse(true);
    const exporter = newExporter({ maxSpoolBytes: 8000 });
    await exportSpans(exporter, spans(100));
    await exporter.forceFlush();
    const stats = exporter.getStats();
    expect(stats.spooledRows).toBeGreaterThan(0);
    expect(stats.droppedRows.spool_full).toBeGreaterThan(0);
    expect(stats.spooledRows + stats.droppedRows.spool_full!).toBe(100);
    expect(stats.spoolBytes).toBeLessThanOrEqual(8000);
    expect(warnings.some((w) => w.includes('the spool is full (8000 bytes)'))).toBe(true);
  });

  it('drops, and says so, when the spool directory cannot be used', async () => {
    const file = path.join(spoolDir, 'not-a-directory');
    writeFileSync(file, 'x');
    proxy.refuse(true);
    const exporter = newExporter({ spoolDir: file });
    await exportSpans(exporter, spans(3));
    await exporter.forceFlush();
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ spooledRows: 0, droppedRows: { database_unavailable: 3 } }),
    );
    expect(warnings.some((w) => w.includes(`the spool directory ${file} cannot be used`))).toBe(true);
  });
});

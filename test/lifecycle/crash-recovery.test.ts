import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecords } from '../../exporter/spool/spool-record.js';
import type { PipelineStats } from '../../src/pipeline-stats.js';
import { startApp } from '../helpers/app-process.js';
import { startLoad } from '../helpers/load.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Every segment file under `dir`, at any depth. */
function segmentsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((name) => path.join(dir, String(name)))
    .filter((file) => file.endsWith('.seg') && statSync(file).isFile());
}

describe('an app killed with SIGKILL while Postgres is away', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('crash');
    const url = new URL(db.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-crash-'));
  });

  afterAll(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('keeps what reached the spool: the next start replays it, each row once', async ({ annotate }) => {
    const spoolDir = path.join(dir, 'spool');
    const config = path.join(dir, 'analytics.json');
    writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 500, statsIntervalMillis: 0 }));
    const env = {
      OTEL_ANALYTICS_DATABASE_URL: proxy.urlFor(db.url),
      OTEL_ANALYTICS_CONFIG: config,
      OTEL_ANALYTICS_SPOOL_DIR: spoolDir,
      OTEL_ANALYTICS_EXCLUDED_PATHS: '/stats',
      OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '30000',
    };
    proxy.refuse(true);
    const first = await startApp('test/fixtures/load-app.mjs', { env });
    const load = startLoad(first.url, { concurrency: 4, pauseMillis: 2 });
    // Kill it once a good part of its rows is on disk (and more are on their way).
    for (;;) {
      const { stats } = (await (await fetch(`${first.url}/stats`)).json()) as { stats: PipelineStats };
      if (stats.spooledRows >= 1000) break;
      await delay(100);
    }
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const result = await load.stop();

    const spooled = new Set<string>();
    let damaged = 0;
    for (const file of segmentsUnder(spoolDir)) {
      const segment = decodeRecords(readFileSync(file));
      for (const entry of segment.entries) spooled.add(entry.row.span_id);
      damaged += segment.corrupt + (segment.truncated ? 1 : 0);
    }
    expect(spooled.size).toBeGreaterThanOrEqual(1000);

    proxy.refuse(false);
    const next = await startApp('test/fixtures/load-app.mjs', { env });
    expect(await next.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });

    const stored = await db.query<{ span_id: string; kind: string }>(
      `select span_id, 'api' as kind from api_access_log union all select span_id, 'auth' from authentication_log`,
    );
    const ids = new Set(stored.map((r) => r.span_id));
    const apiRows = stored.filter((r) => r.kind === 'api').length;
    const served = Object.values(result.served).reduce((a, b) => a + b, 0);
    await annotate(
      `killed after ${served} requests served: ${spooled.size} rows on disk (${damaged} torn), ` +
        `${apiRows} request rows after the restart; lost with the process's memory: ${served - apiRows} requests`,
    );
    expect(stored.length).toBe(ids.size);
    for (const id of spooled) expect(ids.has(id)).toBe(true);
    // Every request answered has at most one row (none lost beyond the in-memory window).
    expect(apiRows).toBeLessThanOrEqual(served);
    expect(stored.length - apiRows).toBeLessThanOrEqual(result.served['/login'] ?? 0);
    // The adopted folder and the next run's own are gone: nothing is replayed twice.
    expect(segmentsUnder(spoolDir)).toEqual([]);
  }, 120_000);

  it('on SIGTERM while Postgres is away, puts every row it holds in the spool within the deadline', async ({
    annotate,
  }) => {
    const spoolDir = path.join(dir, 'spool-term');
    const config = path.join(dir, 'analytics-term.json');
    // A retry deadline longer than the shutdown's: the rows are still in memory at SIGTERM.
    writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 60_000, statsIntervalMillis: 0 }));
    proxy.refuse(true);
    const app = await startApp('test/fixtures/load-app.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: proxy.urlFor(db.url),
        OTEL_ANALYTICS_CONFIG: config,
        OTEL_ANALYTICS_SPOOL_DIR: spoolDir,
        OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '3000',
      },
    });
    const load = startLoad(app.url, { concurrency: 4, pauseMillis: 2 });
    await delay(1500);
    const result = await load.stop();
    const started = Date.now();
    expect(await app.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
    const exitMillis = Date.now() - started;

    const spooled = new Set<string>();
    for (const file of segmentsUnder(spoolDir)) {
      for (const entry of decodeRecords(readFileSync(file)).entries) spooled.add(entry.row.span_id);
    }
    const served = Object.values(result.served).reduce((a, b) => a + b, 0);
    const logins = result.served['/login'] ?? 0;
    await annotate(
      `SIGTERM after ${served} requests: exited in ${exitMillis} ms, ${spooled.size} rows in the spool`,
    );
    // One row per request, and one more per login (its auth event): all of them on disk.
    expect(spooled.size).toBe(served + logins);
    expect(exitMillis).toBeLessThan(3000 + 2000);
  }, 60_000);
});

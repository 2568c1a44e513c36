import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineStats } from '../../src/pipeline-stats.js';
import { startApp } from '../helpers/app-process.js';
import { startLoad } from '../helpers/load.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** How long Postgres is cut off; `OUTAGE_MS=60000` reruns the 60-second drill. */
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 6000);

interface Sample {
  stats: PipelineStats;
  rss: number;
}

describe('Postgres cut off under load, through a real app', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('outage');
    const url = new URL(db.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-outage-'));
  });

  afterAll(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it(
    'serves every request, and once Postgres is back the tables hold exactly one row per request',
    async ({ annotate }) => {
      const config = path.join(dir, 'analytics.json');
      writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 1000, statsIntervalMillis: 0 }));
      const app = await startApp('test/fixtures/load-app.mjs', {
        env: {
          OTEL_ANALYTICS_DATABASE_URL: proxy.urlFor(db.url),
          OTEL_ANALYTICS_CONFIG: config,
          OTEL_ANALYTICS_SPOOL_DIR: path.join(dir, 'spool'),
          OTEL_ANALYTICS_EXCLUDED_PATHS: '/stats',
          OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '30000',
        },
      });
      const sample = async (): Promise<Sample> => {
        try {
          return (await (await fetch(`${app.url}/stats`)).json()) as Sample;
        } catch (error) {
          // The app must still be up: say why if it is not.
          throw new Error(`the app did not answer (${String(error)}); its stderr: ${app.stderr()}`);
        }
      };
      const load = startLoad(app.url, { concurrency: 4, pauseMillis: 2 });

      await delay(1500);
      const before = await sample();
      proxy.refuse(true);
      proxy.cut();
      const during: Sample[] = [];
      const outageEnds = Date.now() + OUTAGE_MS;
      while (Date.now() < outageEnds) {
        during.push(await sample());
        await delay(500);
      }
      proxy.refuse(false);
      await delay(2000);
      const result = await load.stop();
      const last = await sample();
      const exit = await app.stop('SIGTERM');

      const [api] = await db.query<{ rows: number; distinct: number }>(
        `select count(*)::int as rows, count(distinct span_id)::int as distinct from api_access_log where path = '/work'`,
      );
      const [auth] = await db.query<{ rows: number }>('select count(*)::int as rows from authentication_log');
      const served = result.served['/work'] ?? 0;
      const logins = result.served['/login'] ?? 0;
      const peakRss = Math.max(...during.map((s) => s.rss));
      const peakQueue = Math.max(...during.map((s) => s.stats.queuedRows));
      await annotate(
        `outage ${OUTAGE_MS} ms: ${served + logins} requests served (${result.failed} failed, slowest ${result.maxLatencyMillis.toFixed(0)} ms); ` +
          `spooled ${last.stats.spooledRows}, replayed ${last.stats.replayedRows}; peak queue ${peakQueue} rows, RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB before, ${(peakRss / 2 ** 20).toFixed(0)} MiB at most during`,
      );

      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(result.failed).toBe(0);
      expect(served).toBeGreaterThan(100);
      expect(api).toEqual({ rows: served, distinct: served });
      expect(auth!.rows).toBe(logins);
      // The outage was lived through on disk, not by dropping or by holding everything in memory.
      expect(last.stats.droppedRows).toEqual({});
      expect(last.stats.spooledRows).toBeGreaterThan(0);
      expect(peakQueue).toBeLessThanOrEqual(10_000);
      expect(app.stderr()).not.toMatch(/dropped/);
    },
    OUTAGE_MS + 120_000,
  );
});

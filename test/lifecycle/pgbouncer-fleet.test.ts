import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PipelineStats } from '../../src/pipeline-stats.js';
import { startApp, type AppProcess, type Exit } from '../helpers/app-process.js';
import { startLoad, type LoadResult } from '../helpers/load.js';
import { PgBouncer, pgbouncerMissing } from '../helpers/pgbouncer.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const INSTANCES = 4;
/** Server connections PgBouncer may open for the writer: fewer than the instances' pools. */
const SERVER_CONNECTIONS = 2;

/** What load-app's `GET /stats` answers. */
async function statsOf(app: AppProcess): Promise<PipelineStats> {
  const response = await fetch(`${app.url}/stats`);
  return ((await response.json()) as { stats: PipelineStats }).stats;
}

/** Polls every instance's counters until `check` passes for each (the condition, not a time). */
function untilEvery(apps: AppProcess[], check: (stats: PipelineStats) => void): Promise<void> {
  return vi.waitFor(
    async () => {
      for (const app of apps) check(await statsOf(app));
    },
    { timeout: 30_000, interval: 100 },
  );
}

/**
 * A fleet behind a real PgBouncer in transaction mode: several instances of one app, each with
 * its own exporter and pool, writing as the INSERT-only writer through fewer server
 * connections than they have pools between them; PgBouncer killed mid-traffic and started
 * again on the same port while they keep serving.
 */
describe.skipIf(pgbouncerMissing !== undefined)(
  `a fleet writing through PgBouncer in transaction mode${pgbouncerMissing ? ` (skipped: ${pgbouncerMissing})` : ''}`,
  () => {
    let db: TestDatabase;
    let bouncer: PgBouncer;
    let configDir: string;
    const results: LoadResult[] = [];
    const finalStats: PipelineStats[] = [];
    const exits: Exit[] = [];
    let peakServers = 0;
    let peakClients = 0;
    let restarts = 0;

    /** PgBouncer's pool of the writer: client connections (all apps') and server connections. */
    async function samplePool(): Promise<void> {
      const pools = await bouncer.admin<Record<string, string | number>>('SHOW POOLS');
      const pool = pools.find((row) => row.database === db.name);
      if (!pool) return;
      const n = (key: string): number => Number(pool[key] ?? 0);
      peakClients = Math.max(peakClients, n('cl_active') + n('cl_waiting'));
      peakServers = Math.max(
        peakServers,
        n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login'),
      );
    }

    beforeAll(async () => {
      db = await createTestDatabase('pgbouncer_fleet', { writer: true });
      const writer = new URL(db.writerUrl);
      bouncer = await PgBouncer.start({
        databases: { [db.name]: db.name },
        users: { [decodeURIComponent(writer.username)]: decodeURIComponent(writer.password) },
        defaultPoolSize: SERVER_CONNECTIONS,
      });
      // A short retry deadline: the outage below outlasts it, so rows go to the spool and come
      // back by the replay path (INSERT ... ON CONFLICT DO NOTHING), not only by COPY.
      configDir = mkdtempSync(path.join(os.tmpdir(), 'pga-pgbouncer-fleet-'));
      const config = path.join(configDir, 'analytics.json');
      writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 1000 }));

      const apps = await Promise.all(
        Array.from({ length: INSTANCES }, (_, i) =>
          startApp('test/fixtures/load-app.mjs', {
            env: {
              OTEL_ANALYTICS_DATABASE_URL: bouncer.urlFor(db.writerUrl),
              OTEL_ANALYTICS_CONFIG: config,
              OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '30000',
              OTEL_SERVICE_NAME: `pooled-${i}`,
              OTEL_BSP_SCHEDULE_DELAY: '100',
            },
          }),
        ),
      );
      const loads = apps.map((app) => startLoad(app.url, { concurrency: 2, pauseMillis: 2 }));

      // Every instance writes through the pooler (by COPY) ...
      await untilEvery(apps, (stats) => expect(stats.exportedRows).toBeGreaterThan(100));
      await samplePool();
      // ... until PgBouncer dies under them. They keep serving; their rows wait in their spools.
      await bouncer.kill();
      await untilEvery(apps, (stats) => expect(stats.spooledRows).toBeGreaterThan(0));
      await bouncer.start();
      restarts++;
      // Back on the same port: the spools replay while new rows keep coming.
      await untilEvery(apps, (stats) => {
        expect(stats.replayedRows).toBeGreaterThan(0);
        expect(stats.spoolBytes).toBe(0);
      });
      await samplePool();
      results.push(...(await Promise.all(loads.map((load) => load.stop()))));
      await untilEvery(apps, (stats) => expect(stats).toMatchObject({ queuedRows: 0, spoolBytes: 0 }));
      await samplePool();
      finalStats.push(...(await Promise.all(apps.map((app) => statsOf(app)))));
      exits.push(...(await Promise.all(apps.map((app) => app.stop()))));
    }, 120_000);

    afterAll(async () => {
      await bouncer?.stop();
      await db?.drop();
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    });

    it('answers every request of every instance, through the outage too', () => {
      expect(results).toHaveLength(INSTANCES);
      for (const result of results) {
        expect(result.failed).toBe(0);
        expect(result.served['/work'] ?? 0).toBeGreaterThan(100);
      }
      expect(exits).toEqual(Array.from({ length: INSTANCES }, () => ({ code: null, signal: 'SIGTERM' })));
    });

    it('ends with exactly one row per request, each under its instance', async ({ annotate }) => {
      const rows = await db.query<{ service_name: string; n: number; distinct: number }>(
        `select service_name, count(*)::int as n, count(distinct span_id)::int as distinct
         from api_access_log where path = '/work' group by 1 order by 1`,
      );
      expect(rows).toEqual(
        results.map((result, i) => ({
          service_name: `pooled-${i}`,
          n: result.served['/work'],
          distinct: result.served['/work'],
        })),
      );
      const [auth] = await db.query<{ n: number }>('select count(*)::int as n from authentication_log');
      const logins = results.reduce((sum, r) => sum + (r.served['/login'] ?? 0), 0);
      expect(auth!.n).toBe(logins);
      const work = rows.reduce((sum, row) => sum + row.n, 0);
      const sum = (key: 'exportedRows' | 'replayedRows'): number =>
        finalStats.reduce((total, stats) => total + stats[key], 0);
      await annotate(
        `${INSTANCES} instances, ${work + logins} requests, ${work} + ${auth!.n} rows, ${restarts} PgBouncer restart; ` +
          `${sum('exportedRows')} rows by COPY, ${sum('replayedRows')} replayed by INSERT; ` +
          `at most ${peakServers} server connections for ${peakClients} client connections`,
      );
    });

    it('wrote by COPY and replayed by INSERT through the pooler, dropping nothing', () => {
      expect(restarts).toBe(1);
      for (const stats of finalStats) {
        expect(stats.exportedRows).toBeGreaterThan(0);
        expect(stats.replayedRows).toBeGreaterThan(0);
        expect(stats.droppedRows).toEqual({});
        expect(stats.rejectedRows).toEqual({});
      }
    });

    it(`shares ${SERVER_CONNECTIONS} server connections among more client connections`, async () => {
      expect(peakServers).toBeGreaterThan(0);
      expect(peakServers).toBeLessThanOrEqual(SERVER_CONNECTIONS);
      expect(peakClients).toBeGreaterThan(SERVER_CONNECTIONS);
      const [servers] = await db.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = $1 and usename = $2',
        [db.name, decodeURIComponent(new URL(db.writerUrl).username)],
      );
      expect(servers!.n).toBeLessThanOrEqual(SERVER_CONNECTIONS);
    });
  },
);

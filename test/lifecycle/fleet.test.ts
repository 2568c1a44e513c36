import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORTER_OPTIONS } from '../../exporter/postgres-span-exporter-config.js';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { startLoad, type LoadResult } from '../helpers/load.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const INSTANCES = 4;
const MAX_POOL_SIZE = EXPORTER_OPTIONS.maxPoolSize.default;

/**
 * A fleet: several instances of one app, each with its own exporter, writing to one database
 * as the INSERT-only writer at the default pool size, under load at the same time.
 */
describe('a fleet of instances writing to one database', () => {
  let db: TestDatabase;
  const results: LoadResult[] = [];
  let peakConnections = 0;

  beforeAll(async () => {
    db = await createTestDatabase('fleet', { writer: true });
    const apps: AppProcess[] = await Promise.all(
      Array.from({ length: INSTANCES }, (_, i) =>
        startApp('test/fixtures/load-app.mjs', {
          env: {
            OTEL_ANALYTICS_DATABASE_URL: db.writerUrl,
            OTEL_SERVICE_NAME: `fleet-${i}`,
            OTEL_BSP_SCHEDULE_DELAY: '100',
          },
        }),
      ),
    );
    const loads = apps.map((app) => startLoad(app.url, { concurrency: 3, pauseMillis: 1 }));
    // The exporters' connections, sampled while every instance is writing.
    const sampling = (async () => {
      for (let i = 0; i < 30; i++) {
        const [row] = await db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
           where datname = $1 and application_name = 'otel-pg-analytics'`,
          [db.name],
        );
        peakConnections = Math.max(peakConnections, row!.n);
        await delay(100);
      }
    })();
    await sampling;
    results.push(...(await Promise.all(loads.map((load) => load.stop()))));
    await Promise.all(apps.map((app) => app.stop()));
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('answers every request of every instance', () => {
    for (const result of results) {
      expect(result.failed).toBe(0);
      expect(result.served['/work'] ?? 0).toBeGreaterThan(50);
    }
  });

  it('ends with exactly one row per request, each under its instance', async () => {
    const rows = await db.query<{ service_name: string; n: number; distinct: number }>(
      `select service_name, count(*)::int as n, count(distinct span_id)::int as distinct
       from api_access_log where path = '/work' group by 1 order by 1`,
    );
    expect(rows).toEqual(
      results.map((result, i) => ({
        service_name: `fleet-${i}`,
        n: result.served['/work'],
        distinct: result.served['/work'],
      })),
    );
    const [auth] = await db.query<{ n: number }>('select count(*)::int as n from authentication_log');
    expect(auth!.n).toBe(results.reduce((sum, r) => sum + (r.served['/login'] ?? 0), 0));
  });

  it(`opens at most ${MAX_POOL_SIZE} connections per instance`, () => {
    expect(peakConnections).toBeGreaterThan(0);
    expect(peakConnections).toBeLessThanOrEqual(INSTANCES * MAX_POOL_SIZE);
  });
});

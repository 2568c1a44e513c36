import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres.mjs';
import { migrate } from '../../admin/migrate.js';
import { startApp } from '../helpers/app-process.js';
import { startLoad } from '../helpers/load.js';

/**
 * A real PostgreSQL of this test's own (the shared test server must stay up for the other
 * files), stopped and started again on the same data while an app writes to it.
 */
describe('Postgres restarted under load', () => {
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
  let url: string;

  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    url = server.url;
    await migrate(url);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('serves every request and ends with exactly one row per request', async () => {
    const app = await startApp('test/fixtures/load-app.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: url,
        OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '30000',
      },
    });
    const load = startLoad(app.url, { concurrency: 4, pauseMillis: 2 });
    await delay(1500);
    await server.halt();
    await delay(3000);
    await server.resume();
    await delay(1500);
    const result = await load.stop();
    const exit = await app.stop('SIGTERM');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const api = await client.query<{ rows: number; distinct: number }>(
        `select count(*)::int as rows, count(distinct span_id)::int as distinct from api_access_log where path = '/work'`,
      );
      const auth = await client.query<{ rows: number }>(
        'select count(*)::int as rows from authentication_log',
      );
      const served = result.served['/work'] ?? 0;
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(result.failed).toBe(0);
      expect(served).toBeGreaterThan(100);
      expect(api.rows[0]).toEqual({ rows: served, distinct: served });
      expect(auth.rows[0]!.rows).toBe(result.served['/login'] ?? 0);
      expect(app.stderr()).not.toMatch(/dropped/);
    } finally {
      await client.end();
    }
  }, 120_000);
});

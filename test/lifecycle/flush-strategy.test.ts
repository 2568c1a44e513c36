import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('flush');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.query('truncate api_access_log');
});

async function apiRows(): Promise<number> {
  return (await db.query<{ n: number }>('select count(*)::int as n from api_access_log'))[0]!.n;
}

/** Polls until `predicate` holds (the app flushes on its own schedule, out of our reach). */
async function eventually(predicate: () => Promise<boolean>, withinMillis: number): Promise<boolean> {
  const deadline = Date.now() + withinMillis;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return predicate();
}

async function hit(url: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await (await fetch(`${url}/r${i}`)).text();
}

describe('flush strategies, while the app keeps running', () => {
  it('count: writes as soon as the threshold is reached, not before', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_FLUSH_STRATEGY: 'count',
        ANALYTICS_FLUSH_COUNT_THRESHOLD: '3',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    await hit(app.url, 2);
    // Below the threshold the 100 ms schedule does not apply: nothing may arrive.
    expect(await eventually(async () => (await apiRows()) > 0, 1000)).toBe(false);
    await hit(app.url, 1);
    expect(await eventually(async () => (await apiRows()) === 3, 10_000)).toBe(true);
    await app.stop();
  });

  it('time: writes on the schedule, whatever the count', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_FLUSH_STRATEGY: 'time',
        ANALYTICS_FLUSH_INTERVAL_SECONDS: '0.2',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1',
      },
    });
    await hit(app.url, 2);
    expect(await eventually(async () => (await apiRows()) === 2, 10_000)).toBe(true);
    await app.stop();
  });

  it('stores an IPv4 client of an IPv6 server (::ffff:127.0.0.1) as IPv4', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, HOST: '::' },
    });
    await hit(app.url, 1);
    await app.stop();
    expect(
      await db.query('select host(ip_address) as ip, host(peer_address) as peer from api_access_log'),
    ).toEqual([{ ip: '127.0.0.1', peer: '127.0.0.1' }]);
  });
});

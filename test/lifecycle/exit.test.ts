import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('exit', { writer: true });
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
});

async function apiRows(): Promise<number> {
  return (await db.query<{ n: number }>('select count(*)::int as n from api_access_log'))[0]!.n;
}

/** Long enough that only the exit path, never the timer, can have flushed. */
const SLOW_FLUSH = { OTEL_BSP_SCHEDULE_DELAY: '600000' };

describe('leaving the process', () => {
  it('flushes pending rows when a CommonJS app ends naturally, keeping its exit code', async () => {
    const app = await startApp('test/fixtures/serve-and-exit.cjs', {
      waitForListening: false,
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, REQUESTS: '4', EXIT_CODE: '3' },
    });
    expect(await app.exited).toEqual({ code: 3, signal: null });
    // Four requests served and four outbound fetch calls (the app calls itself).
    expect(await apiRows()).toBe(4);
    expect(app.stderr()).toBe('');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('flushes on %s, then ends by that signal', async (signal) => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl },
    });
    for (let i = 0; i < 3; i++) await (await fetch(`${app.url}/x${i}`)).text();
    expect(await app.stop(signal)).toEqual({ code: null, signal });
    expect(await apiRows()).toBe(3);
  });

  it('lets an app that handles SIGTERM itself decide how to exit, and still flushes', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, OWN_SIGTERM_HANDLER: '1' },
    });
    await (await fetch(`${app.url}/once`)).text();
    // The app closes its server and ends naturally: code 0, not killed by the signal.
    expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await apiRows()).toBe(1);
  });

  it('lets an app drain gracefully with its own once-listener, recording what it serves meanwhile', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, DRAIN_ON_SIGTERM_MS: '1500' },
    });
    await (await fetch(`${app.url}/before`)).text();
    app.child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const check = (): void => (app.stdout().includes('draining') ? resolve() : void setTimeout(check, 20));
      check();
    });
    // Still serving during the drain: we must not have re-raised the signal.
    expect(await (await fetch(`${app.url}/during`)).text()).toBe('ok /during');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    const paths = await db.query('select path from api_access_log order by time');
    expect(paths).toEqual([{ path: '/before' }, { path: '/during' }]);
  });

  it('installs no signal handler when OTEL_ANALYTICS_HANDLE_SIGNALS=false', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: {
        ...SLOW_FLUSH,
        OTEL_ANALYTICS_DATABASE_URL: db.writerUrl,
        OTEL_ANALYTICS_HANDLE_SIGNALS: 'false',
      },
    });
    await (await fetch(`${app.url}/once`)).text();
    expect(await app.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await apiRows()).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { unusedPort } from '../helpers/ports.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('failures');
});

afterAll(async () => {
  await db.drop();
});

async function count(table: string): Promise<number> {
  return (await db.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]!.n;
}

/** Sends requests and checks every one was answered as usual. */
async function expectServes(app: AppProcess, requests = 5): Promise<void> {
  for (let i = 0; i < requests; i++) {
    const response = await fetch(`${app.url}/r${i}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`ok /r${i}`);
  }
}

function warningLines(app: AppProcess): string[] {
  return app
    .stderr()
    .split('\n')
    .filter((line) => line.trim().length > 0);
}

describe('the app keeps serving, with one clear warning, when', () => {
  it('no database URL is set', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs');
    await expectServes(app);
    expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(warningLines(app)).toHaveLength(1);
    expect(app.stderr()).toMatch(
      /OTEL_ANALYTICS_DATABASE_URL \(or DATABASE_URL\) is not set: analytics are off/,
    );
  });

  it('the database URL is not a postgres URL (and its password is not printed)', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: 'mysql://app:s3cret-pw@db/app' },
    });
    await expectServes(app);
    await app.stop();
    expect(warningLines(app)).toHaveLength(1);
    expect(app.stderr()).toMatch(/Invalid OTEL_ANALYTICS_DATABASE_URL=.*analytics are off/);
    expect(app.stderr()).not.toContain('s3cret-pw');
  });

  it('the database is down, and still exits promptly on SIGTERM', async () => {
    const port = await unusedPort();
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${port}/none`,
        OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '1500',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    });
    await expectServes(app, 20);
    const started = Date.now();
    expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(app.stderr()).toMatch(/cannot write to Postgres at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    expect(app.stderr()).not.toContain(':pw@');
    expect(app.stderr().match(/cannot write to Postgres/g)).toHaveLength(1);
  });

  it('the schema is missing, and the warning says how to fix it', async () => {
    const bare = await createTestDatabase('failures_bare', { schema: false });
    try {
      const app = await startApp('test/fixtures/serve-forever.mjs', {
        env: { OTEL_ANALYTICS_DATABASE_URL: bare.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
      });
      await expectServes(app);
      await app.stop();
      expect(app.stderr()).toMatch(/table api_access_log does not exist: run `otel-pg-analytics migrate`/);
      expect(app.stderr().match(/does not exist/g)).toHaveLength(1);
    } finally {
      await bare.drop();
    }
  });

  it('another OpenTelemetry SDK is already registered: nothing is patched twice', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      nodeArgs: [],
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        NODE_OPTIONS: '--import ./test/fixtures/preload-other-sdk.mjs',
      },
    });
    await expectServes(app);
    expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(warningLines(app)).toHaveLength(1);
    expect(app.stderr()).toMatch(/tracer provider is already registered/);
    expect(await count('api_access_log')).toBe(0);
  });
});

describe('the register entry', () => {
  it('does nothing at all when OTEL_SDK_DISABLED=true', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, OTEL_SDK_DISABLED: 'true' },
    });
    await expectServes(app);
    expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.stderr()).toBe('');
    expect(await count('api_access_log')).toBe(0);
  });

  it('starts a pipeline in the main thread only, not in Worker threads', async () => {
    await db.query('truncate api_access_log, external_api_call_log');
    const app = await startApp('test/fixtures/worker-fetch.mjs', {
      waitForListening: false,
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(await count('api_access_log')).toBe(1);
    // A pipeline in the worker would have recorded its fetch.
    expect(await count('external_api_call_log')).toBe(0);
  });

  it('drops excluded paths and thins ordinary rows, but keeps errors and the calls excluded requests made', async () => {
    await db.query('truncate api_access_log, external_api_call_log');
    const target = await startApp('test/fixtures/serve-forever.mjs', { register: false });
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_EXCLUDED_PATHS: '/call,/static/*',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
      },
    });
    await (await fetch(`${app.url}/call?to=${encodeURIComponent(`${target.url}/upstream`)}`)).text();
    await (await fetch(`${app.url}/static/app.js`)).text();
    for (let i = 0; i < 5; i++) await (await fetch(`${app.url}/ordinary`)).text();
    await (await fetch(`${app.url}/err`)).text();
    await app.stop();
    await target.stop();
    const rows = await db.query('select path, status_code, sample_weight from api_access_log');
    expect(rows).toEqual([{ path: '/err', status_code: 500, sample_weight: 1 }]);
    expect(await db.query('select endpoint from external_api_call_log')).toEqual([
      { endpoint: `${target.url}/upstream` },
    ]);
  });
});

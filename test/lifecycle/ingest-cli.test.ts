import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { djangoServerSpan, otlpRequest, PYTHON_RESOURCE, toProtobuf } from '../helpers/otlp-payloads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const CLI = 'dist/cli/otel-pg-analytics.js';
/** As `openssl rand -base64 32` makes them. */
const TOKEN = 'yN4r+T8kQ2wZ6mB0vC3xL7pH1sJ5dF9gA2eU6iO0tR4=';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('ingest_cli');
});

afterAll(async () => {
  await db.drop();
});

describe('otel-pg-analytics ingest', () => {
  it('refuses to listen on the network without a token, saying what to set', async () => {
    const app = await startApp(CLI, {
      register: false,
      args: ['ingest', '--host', '0.0.0.0', '--port', '0'],
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
      waitForListening: false,
    });
    const exit = await app.exited;
    expect(exit.code).toBe(2);
    expect(app.stderr()).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/);
    expect(app.stderr()).toContain('OTEL_ANALYTICS_INGEST_TOKEN');
  });

  it.each([
    [['--port', 'http'], '--port must be an integer from 0 to 65535, not "http"'],
    [['--port', '70000'], '--port must be an integer from 0 to 65535, not "70000"'],
    [['--host', ' ', '--port', '0'], 'Invalid host: " " (expected a non-empty string)'],
  ])('refuses %j at once, saying what it expects', async (args, message) => {
    const app = await startApp(CLI, {
      register: false,
      args: ['ingest', ...args],
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
      waitForListening: false,
    });
    expect((await app.exited).code).toBe(2);
    expect(app.stderr()).toContain(`otel-pg-analytics ingest: ${message}`);
  });

  it('listens with a token on any address, writes what it receives, and flushes on SIGTERM', async () => {
    const app = await startApp(CLI, {
      register: false,
      args: ['ingest', '--host', '0.0.0.0', '--port', '0'],
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_INGEST_TOKEN: TOKEN,
        OTEL_ANALYTICS_EXCLUDED_PATHS: '/healthz',
      },
    });
    expect(app.stdout()).toContain('bearer token required');
    const url = app.url.replace('0.0.0.0', '127.0.0.1');
    const payload = otlpRequest(PYTHON_RESOURCE, [
      {
        scope: { name: 'opentelemetry.instrumentation.django' },
        spans: [
          djangoServerSpan(),
          djangoServerSpan({
            attributes: { 'http.method': 'GET', 'http.target': '/healthz', 'http.status_code': 200 },
          }),
        ],
      },
    ]);
    const denied = await fetch(url, {
      method: 'POST',
      body: toProtobuf(payload),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    expect(denied.status).toBe(401);
    const accepted = await fetch(url, {
      method: 'POST',
      body: toProtobuf(payload),
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` },
    });
    expect(accepted.status).toBe(200);
    const exit = await app.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const rows = await db.query('select path, service_name from api_access_log');
    // The health check is an excluded path, as in-process.
    expect(rows).toEqual([{ path: '/api/items/42/', service_name: 'shop-django' }]);
  });

  it('takes its budget of bytes in flight from OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES', async () => {
    const payload = otlpRequest(PYTHON_RESOURCE, [
      { scope: { name: 'django' }, spans: [djangoServerSpan()] },
    ]);
    const json = JSON.stringify(payload);
    // 100 KiB: more than large bodies may hold of a 64 KiB budget (three quarters).
    const body = json + ' '.repeat(100 * 1024 - json.length);
    const post = (url: string) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    const small = await startApp(CLI, {
      register: false,
      args: ['ingest', '--port', '0'],
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES: '64KiB' },
    });
    expect((await post(small.url)).status).toBe(413);
    expect((await small.stop('SIGTERM')).code).toBe(0);

    const invalid = await startApp(CLI, {
      register: false,
      args: ['ingest', '--port', '0'],
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES: 'lots' },
    });
    expect(invalid.stderr()).toContain('Invalid OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES="lots"');
    expect(invalid.stderr()).toContain('using the default');
    expect((await post(invalid.url)).status).toBe(200);
    expect((await invalid.stop('SIGTERM')).code).toBe(0);
  });
});

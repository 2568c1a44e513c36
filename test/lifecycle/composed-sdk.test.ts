import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe("the pieces composed into an app's own NodeSDK, as docs/composing.md shows", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('composed', { writer: true });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records requests and outbound calls of an ESM app without the register entry', async () => {
    const target = await startApp('test/fixtures/serve-forever.mjs', { register: false });
    const app = await startApp('test/fixtures/composed-sdk.mjs', {
      register: false,
      env: { OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, OTEL_SERVICE_NAME: 'composed' },
    });
    await (
      await fetch(`${app.url}/call?to=${encodeURIComponent(`${target.url}/up?token=t0p-s3cret`)}`)
    ).text();
    await (await fetch(`${app.url}/plain`)).text();
    expect(await app.stop()).toEqual({ code: 0, signal: null });
    await target.stop();
    expect(await db.query('select path, service_name from api_access_log order by time')).toEqual([
      { path: '/call', service_name: 'composed' },
      { path: '/plain', service_name: 'composed' },
    ]);
    expect(await db.query('select endpoint, status_code from external_api_call_log')).toEqual([
      { endpoint: `${target.url}/up`, status_code: 200 },
    ]);
    const [call] = await db.query<{ t: string }>('select t::text from external_api_call_log t');
    expect(call!.t).not.toContain('t0p-s3cret');
    expect(app.stderr()).toBe('');
  });
});

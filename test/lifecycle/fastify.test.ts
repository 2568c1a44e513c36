import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('a Fastify app under the register entry', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('fastify');
    const app = await startApp('test/fixtures/fastify-app.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    for (const route of ['/users/42', '/users/7', '/orders/9/items/3', '/boom', '/not-a-route/12']) {
      await (await fetch(app.url + route)).text();
    }
    expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("records Fastify's route templates as endpoints", async () => {
    const rows = await db.query('select path, endpoint, status_code from api_access_log order by time');
    expect(rows).toEqual([
      { path: '/users/42', endpoint: '/users/:id', status_code: 200 },
      { path: '/users/7', endpoint: '/users/:id', status_code: 200 },
      { path: '/orders/9/items/3', endpoint: '/orders/:orderId/items/:itemId', status_code: 200 },
      { path: '/boom', endpoint: '/boom', status_code: 500 },
      { path: '/not-a-route/12', endpoint: '(unmatched)', status_code: 404 },
    ]);
  });

  it('records the message of an error thrown in a handler', async () => {
    const [row] = await db.query(`select error_message from api_access_log where path = '/boom'`);
    expect(row).toEqual({ error_message: 'payment provider timed out' });
  });
});

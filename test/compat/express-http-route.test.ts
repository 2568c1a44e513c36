import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** What the app printed at exit: see test/compat/apps/composed-express-metrics.mjs. */
interface Seen {
  durations: Record<string, unknown>[];
  spans: { name: string; route?: string }[];
}

/** Where the app requires Express 4 from. */
const EXPRESS_4 = path.join(ROOT, 'test/compat/stacks/express4');

/**
 * Without instrumentation-express, which set the route on instrumentation-http's RPC metadata
 * while Express routed, the route must still reach what instrumentation-http makes of it: its
 * `http.server.request.duration` metric, computed before any hook of ours runs at the end of
 * the response, and its span name. Run as an app that composes its own NodeSDK with a metric
 * reader.
 */
describe.each([
  ['Express 5', undefined],
  ['Express 4', EXPRESS_4],
])('%s in a composed NodeSDK with a metric reader', (name, expressFrom) => {
  let db: TestDatabase;
  let seen: Seen;
  let rows: { endpoint: string; status_code: number; endpoint_source: string | null }[];

  beforeAll(async () => {
    db = await createTestDatabase(`express-http-route-${name}`);
    const app = await startApp('test/compat/apps/composed-express-metrics.mjs', {
      register: false,
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, EXPRESS_FROM: expressFrom },
    });
    try {
      for (const request of ['/api/items/42', '/api/later/7', '/nope/7']) {
        await (await fetch(app.url + request)).text();
      }
      // The waiter is answered from the releaser's handler, in the releaser's context.
      await Promise.all(
        ['/api/waiters/1', '/api/releasers/2'].map(async (request) =>
          (await fetch(app.url + request)).text(),
        ),
      );
    } finally {
      await app.stop();
    }
    const line = /^seen: (.*)$/m.exec(app.stdout());
    if (!line) throw new Error(`the app printed nothing it saw: ${app.stderr()}`);
    seen = JSON.parse(line[1]!) as Seen;
    rows = await db.query(
      `select endpoint, status_code, metadata->>'endpoint_source' as endpoint_source
         from api_access_log order by endpoint`,
    );
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it("puts the route template on instrumentation-http's request duration metric", () => {
    expect(seen.durations).toContainEqual(
      expect.objectContaining({
        'http.request.method': 'GET',
        'http.route': '/api/items/:id',
        'http.response.status_code': 200,
      }),
    );
    // The waiter's response ended in the releaser's context, where its route cannot be told
    // from the releaser's: its data point goes without one rather than give the releaser its.
    expect(
      seen.durations
        .filter((point) => point['http.response.status_code'] === 200)
        .map((point) => point['http.route'] ?? null)
        .sort(),
    ).toEqual(['/api/items/:id', '/api/later/:id', '/api/releasers/:id', null]);
  });

  it('leaves the metric of a request no route matched without a route', () => {
    const notFound = seen.durations.filter((point) => point['http.response.status_code'] === 404);
    expect(notFound).toHaveLength(1);
    expect(notFound[0]).not.toHaveProperty('http.route');
  });

  it('names each server span for its route, and a span no route matched for its method', () => {
    expect(seen.spans.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'GET' },
      { name: 'GET /api/items/:id', route: '/api/items/:id' },
      { name: 'GET /api/later/:id', route: '/api/later/:id' },
      { name: 'GET /api/releasers/:id', route: '/api/releasers/:id' },
      { name: 'GET /api/waiters/:id', route: '/api/waiters/:id' },
    ]);
  });

  it('writes the same routes to the rows', () => {
    // A path normalized by its shape says so in `endpoint_source`; a route template does not.
    expect(rows).toEqual([
      { endpoint: '(unmatched)', status_code: 404, endpoint_source: expect.any(String) },
      { endpoint: '/api/items/:id', status_code: 200, endpoint_source: null },
      { endpoint: '/api/later/:id', status_code: 200, endpoint_source: null },
      { endpoint: '/api/releasers/:id', status_code: 200, endpoint_source: null },
      { endpoint: '/api/waiters/:id', status_code: 200, endpoint_source: null },
    ]);
  });
});

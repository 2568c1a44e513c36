import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * Acceptance of issue 13: random paths sent to apps without routes give each service a few
 * dozen endpoint values at most, through the real pipeline into PostgreSQL.
 */

const PATHS_PER_APP = 10_000;
/** 32 shapes + 16 `/first/*` + `/` + `/*` (the guard's bound) + `(unmatched)`. */
const MAX_ENDPOINTS_PER_SERVICE = 51;

/** mulberry32: the same "random" paths on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPaths(count: number, seed: number): string[] {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chars = (alphabet: string, length: number): string =>
    Array.from({ length }, () => alphabet[int(alphabet.length)]).join('');
  const lower = 'abcdefghijklmnopqrstuvwxyz';
  const base64 = `${lower}${lower.toUpperCase()}0123456789+`;
  const word = (): string => chars(lower, 3 + int(8));
  const date = (): string =>
    `20${10 + int(15)}-${String(1 + int(12)).padStart(2, '0')}-${String(1 + int(28)).padStart(2, '0')}`;
  const kinds: (() => string)[] = [
    () => `/users/${word()}`,
    () => `/users/${word()}.${word()}@${word()}.com`,
    () => `/articles/${Array.from({ length: 3 + int(5) }, word).join('-')}-${chars(`${lower}0123456789`, 4)}`,
    () => `/articles/${word()}-${int(10_000)}`,
    () => `/objects/${chars(`${base64}_-`, 16 + int(30))}`,
    () => `/objects/${chars('0123456789abcdef', 24 + int(40))}`,
    () => `/objects/${crypto.randomUUID()}`,
    () => `/reports/${random() < 0.5 ? date() : date().replaceAll('-', '')}`,
    () => `/assets/${word()}.${chars('0123456789abcdef', 8)}.${pick(['js', 'css', 'map', 'woff2', 'png'])}`,
    () =>
      `/${pick(['wp-admin', 'wp-content', 'phpmyadmin', 'admin', 'cgi-bin'])}/${word()}.${pick(['php', 'cgi', 'asp'])}`,
    () => pick(['/.env', '/.git/config', '/.aws/credentials', '/phpmyadmin/index.php', '/wp-login.php']),
    () => `/${word()}/${word()}`,
    () => `/${word()}`,
    () => `/${Array.from({ length: 7 + int(6) }, word).join('/')}`,
    () => `/api/v1/items/${int(1e6)}/${word()}`,
  ];
  return Array.from({ length: count }, () => pick(kinds)());
}

async function sendAll(baseUrl: string, paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++]!;
      await (await fetch(baseUrl + path)).arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

describe('endpoints of requests no framework routed', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('unrouted_endpoints');
    for (const [service, notFound] of [
      ['catch-all', undefined],
      ['not-found', '1'],
    ] as const) {
      const app = await startApp('test/fixtures/unrouted-app.mjs', {
        env: {
          OTEL_ANALYTICS_DATABASE_URL: db.url,
          OTEL_SERVICE_NAME: service,
          OTEL_BSP_MAX_QUEUE_SIZE: String(PATHS_PER_APP * 2),
          NOT_FOUND_UNKNOWN: notFound,
        },
      });
      await sendAll(app.url, randomPaths(PATHS_PER_APP, service.length));
      expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    }
  }, 300_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('stores every request with its raw path, and a few dozen endpoints per service', async () => {
    const rows = await db.query<{ service_name: string; n: number; paths: number; endpoints: number }>(
      `select service_name, count(*)::int as n, count(distinct path)::int as paths,
              count(distinct endpoint)::int as endpoints
       from api_access_log group by service_name order by service_name`,
    );
    expect(rows.map(({ endpoints: _e, paths: _p, ...row }) => row)).toEqual([
      { service_name: 'catch-all', n: PATHS_PER_APP },
      { service_name: 'not-found', n: PATHS_PER_APP },
    ]);
    for (const row of rows) {
      expect(row.paths).toBeGreaterThan(PATHS_PER_APP / 2);
      expect(row.endpoints).toBeLessThanOrEqual(MAX_ENDPOINTS_PER_SERVICE);
    }
  });

  it('makes every 404 (unmatched) and says how each endpoint was made', async () => {
    const rows = await db.query(
      `select status_code, endpoint = '(unmatched)' as unmatched, metadata->>'endpoint_source' as source,
              count(*)::int > 0 as seen
       from api_access_log where service_name = 'not-found'
       group by 1, 2, 3 order by 1, 2, 3`,
    );
    expect(rows).toEqual([
      { status_code: 200, unmatched: false, source: 'coarsened_path', seen: true },
      { status_code: 200, unmatched: false, source: 'normalized_path', seen: true },
      { status_code: 404, unmatched: true, source: 'unmatched', seen: true },
    ]);
  });

  it('keeps recognised shapes, so the families the app serves stay apart', async () => {
    const rows = await db.query<{ endpoint: string }>(
      `select distinct endpoint from api_access_log where service_name = 'not-found'`,
    );
    expect(rows.map((row) => row.endpoint)).toEqual(
      expect.arrayContaining([
        '(unmatched)',
        '/articles/:slug',
        '/assets/:file',
        '/reports/:date',
        '/objects/:id',
        '/users/:email',
      ]),
    );
  });

  it('never leaves an error message on a 404 the app answered', async () => {
    const [row] = await db.query(
      `select count(*)::int as n from api_access_log where status_code = 404 and error_message is not null`,
    );
    expect(row).toEqual({ n: 0 });
  });
});

import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudonymizeUserId } from '../../src/privacy/pseudonymize.js';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA';
/** Every secret the app is made to handle; none may reach the database. */
const SECRETS = {
  password: 'hunter2-Pw-9f8e7d',
  jwt: JWT,
  bearer: 'opaque-bearer-token-5d5d5d5d',
  aws: 'AKIAIOSFODNN7EXAMPLE',
  google: 'AIzaSyD-fake-key-0123456789abcdefghijk',
  openai: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
  cookie: 'cookie-secret-77aa',
  apiKeyHeader: 'header-api-key-3c3c3c',
  inboundToken: 'inbound-access-token-4b4b',
  outboundKey: 'outbound-api-key-5c5c',
  amzSignature: 'amzsig-secret-0e0e0e',
  userinfo: 'userinfo-pass-3131',
  slack: 'xoxb-1234567890-secretslack',
  github: `ghp_${'a1B2'.repeat(9)}`,
} as const;

/** What Postgres holds, as text: pg_dump when the machine has it, else every row of every table. */
async function dumpDatabase(db: TestDatabase): Promise<{ text: string; how: string }> {
  const dump = spawnSync('pg_dump', ['--data-only', '--no-owner', db.url], { encoding: 'utf8' });
  if (dump.status === 0) return { text: dump.stdout, how: 'pg_dump --data-only' };
  const tables = await db.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'public'`,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await db.query<{ t: string }>(`select t::text as t from ${name} t`);
    parts.push(...rows.map((r) => r.t));
  }
  return { text: parts.join('\n'), how: 'select t::text from every table (no pg_dump here)' };
}

/** A stand-in for third-party APIs and internal services: records the headers it got. */
function startStub(): Promise<{ url: string; seen: http.IncomingHttpHeaders[]; close(): void }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        close: () => server.close(),
      }),
    ),
  );
}

async function get(app: AppProcess, target: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${app.url}${target}`, { headers });
  await response.arrayBuffer();
  return response.status;
}

describe('a secrets corpus sent through a real app', () => {
  let db: TestDatabase;
  let stub: Awaited<ReturnType<typeof startStub>>;
  const statuses: number[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('privacy_secrets');
    stub = await startStub();
    const app = await startApp('test/fixtures/privacy-app.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_CAPTURE_HEADERS: 'authorization,cookie,x-api-key,x-request-id',
      },
    });
    const s = SECRETS;
    const port = new URL(stub.url).port;
    const calls: [string, Record<string, string>?][] = [
      [
        `/login?user=alice&password=${s.password}&access_token=${s.inboundToken}`,
        { authorization: `Bearer ${s.bearer}`, cookie: `session=${s.cookie}`, 'x-api-key': s.apiKeyHeader },
      ],
      [`/login?user=alice&ok=0&password=${s.password}`, { authorization: `Bearer ${JWT}` }],
      // An opaque token is found by its name; typed keys and JWTs by their shape, under any name.
      [`/fail?token=${s.bearer}&k=${s.openai}`, { 'x-request-id': 'r-1' }],
      [`/fail?t=${JWT}&k=${s.aws}`],
      [`/call?to=${encodeURIComponent(`${stub.url}/v1beta/models/x:generateContent?key=${s.google}`)}`],
      [
        `/call?to=${encodeURIComponent(`${stub.url}/data?api_key=${s.outboundKey}&X-Amz-Signature=${s.amzSignature}`)}`,
      ],
      [
        `/call-http?to=${encodeURIComponent(`http://bob:${s.userinfo}@127.0.0.1:${port}/private?token=${s.slack}`)}`,
      ],
      [`/me?user=carol&gh=${s.github}`],
    ];
    for (const [target, headers] of calls) statuses.push(await get(app, target, headers));
    await app.stop();
  });

  afterAll(async () => {
    stub?.close();
    await db?.drop();
  });

  it('served the requests and recorded them', async () => {
    expect(statuses).toEqual([200, 200, 500, 500, 200, 200, 200, 200]);
    const [counts] = await db.query<{ api: number; auth: number; ext: number }>(
      `select (select count(*)::int from api_access_log) as api,
              (select count(*)::int from authentication_log) as auth,
              (select count(*)::int from external_api_call_log) as ext`,
    );
    expect(counts).toEqual({ api: 8, auth: 2, ext: 3 });
  });

  it('leaves no secret in the database', async ({ annotate }) => {
    const { text, how } = await dumpDatabase(db);
    await annotate(`dump: ${how}, ${text.length} characters`);
    expect(text).toContain('REDACTED');
    const found = Object.entries(SECRETS)
      .filter(([, secret]) => text.includes(secret))
      .map(([name, secret]) => {
        const at = text.indexOf(secret);
        return `${name}: …${text.slice(Math.max(0, at - 80), at + secret.length + 20)}…`;
      });
    expect(found).toEqual([]);
  });

  it('keeps the names of what was redacted, so readers see what was there', async () => {
    const [row] = await db.query<{ q: Record<string, string> }>(
      `select query_params as q from api_access_log where path = '/login' and query_params ? 'access_token' limit 1`,
    );
    expect(row!.q).toMatchObject({ user: 'alice', password: 'REDACTED', access_token: 'REDACTED' });
  });
});

describe('client addresses from proxy headers', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('privacy_proxies');
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function addressesWith(
    env: Record<string, string>,
    requests: [string, Record<string, string>][],
  ): Promise<Record<string, { ip: string | null; peer: string | null }>> {
    const app = await startApp('test/fixtures/privacy-app.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, ...env },
    });
    for (const [label, headers] of requests) await get(app, `/me?user=${label}`, headers);
    await app.stop();
    const rows = await db.query<{ user_id: string; ip: string | null; peer: string | null }>(
      `select user_id, host(ip_address) as ip, host(peer_address) as peer from api_access_log
       where user_id = any($1)`,
      [requests.map(([label]) => label)],
    );
    return Object.fromEntries(rows.map((r) => [r.user_id, { ip: r.ip, peer: r.peer }]));
  }

  it('never believes forged headers from an untrusted peer (the default)', async () => {
    const result = await addressesWith({}, [
      ['xff', { 'x-forwarded-for': '6.6.6.6' }],
      ['forwarded', { forwarded: 'for=7.7.7.7' }],
      ['both', { 'x-forwarded-for': '6.6.6.6, 8.8.8.8', forwarded: 'for="[2001:db8::6]"' }],
    ]);
    for (const label of ['xff', 'forwarded', 'both']) {
      expect({ label, ...result[label] }).toEqual({ label, ip: '127.0.0.1', peer: '127.0.0.1' });
    }
  });

  it('chooses the address the trusted hop saw, and ignores what the client wrote before it', async () => {
    const result = await addressesWith({ OTEL_ANALYTICS_TRUSTED_PROXIES: 'loopback' }, [
      ['t-xff', { 'x-forwarded-for': '6.6.6.6, 198.51.100.20' }],
      ['t-forwarded-v6', { forwarded: 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711"' }],
      ['t-malformed', { 'x-forwarded-for': '6.6.6.6, not-an-ip' }],
      ['t-none', {}],
    ]);
    expect(result['t-xff']).toEqual({ ip: '198.51.100.20', peer: '127.0.0.1' });
    expect(result['t-forwarded-v6']).toEqual({ ip: '2001:db8:cafe::17', peer: '127.0.0.1' });
    expect(result['t-malformed']).toEqual({ ip: null, peer: '127.0.0.1' });
    expect(result['t-none']).toEqual({ ip: '127.0.0.1', peer: '127.0.0.1' });
  });
});

describe('pseudonymous users, truncated addresses and trace context', () => {
  const KEY = 'test-hmac-key-of-at-least-16-bytes';
  let db: TestDatabase;
  let stub: Awaited<ReturnType<typeof startStub>>;

  beforeAll(async () => {
    db = await createTestDatabase('privacy_modes');
    stub = await startStub();
  });

  afterAll(async () => {
    stub?.close();
    await db?.drop();
  });

  it('stores a keyed pseudonym for every user id and a /24 for every address', async () => {
    const app = await startApp('test/fixtures/privacy-app.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_USER_ID_MODE: 'hmac',
        OTEL_ANALYTICS_HMAC_KEY: KEY,
        OTEL_ANALYTICS_IP_MODE: 'truncate',
      },
    });
    // The id comes in a header, as a session would give it (ids in URLs: test/security/emails-under-hmac).
    await get(app, '/login', { 'x-user': 'alice@example.com' });
    await get(app, '/me', { 'x-user': 'alice@example.com' });
    await app.stop();
    const pseudonym = pseudonymizeUserId('alice@example.com', KEY);
    const rows = await db.query<{ t: string; user_id: string; ip: string; peer: string | null }>(
      `select 'api' as t, user_id, host(ip_address) as ip, host(peer_address) as peer from api_access_log
       union all select 'auth', user_id, host(ip_address), null from authentication_log order by 1`,
    );
    expect(rows).toEqual([
      { t: 'api', user_id: pseudonym, ip: '127.0.0.0', peer: '127.0.0.0' },
      { t: 'api', user_id: pseudonym, ip: '127.0.0.0', peer: '127.0.0.0' },
      { t: 'auth', user_id: pseudonym, ip: '127.0.0.0', peer: null },
    ]);
    const { text } = await dumpDatabase(db);
    expect(text).not.toContain('alice');
  });

  it('sends trace context only to the hosts allowed', async () => {
    stub.seen.length = 0;
    const port = new URL(stub.url).port;
    const run = async (env: Record<string, string>): Promise<(string | undefined)[]> => {
      const app = await startApp('test/fixtures/privacy-app.mjs', {
        env: { OTEL_ANALYTICS_DATABASE_URL: db.url, ...env },
      });
      for (const host of ['127.0.0.1', 'localhost']) {
        await get(app, `/call?to=${encodeURIComponent(`http://${host}:${port}/x`)}`);
        await get(app, `/call-http?to=${encodeURIComponent(`http://${host}:${port}/y`)}`);
      }
      await app.stop();
      return stub.seen.splice(0).map((h) => (h.traceparent === undefined ? undefined : h.host));
    };
    // By default nothing: a third-party API learns nothing of the app's traces.
    expect(await run({})).toEqual([undefined, undefined, undefined, undefined]);
    // Allowed: the internal host (fetch and node:http alike), and it alone.
    expect(await run({ OTEL_ANALYTICS_PROPAGATE_HOSTS: 'localhost' })).toEqual([
      undefined,
      undefined,
      `localhost:${port}`,
      `localhost:${port}`,
    ]);
  });
});

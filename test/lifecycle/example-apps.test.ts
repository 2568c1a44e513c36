import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUB_USAGE, startStubApis, stubServices } from '../../examples/stub-apis.mjs';
import { DEFAULT_MODEL_PRICES, type ModelPrice } from '../../src/pricing/price-table.js';
import { startApp, type AppProcess, type Exit } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

function price(model: string): ModelPrice {
  return DEFAULT_MODEL_PRICES.find((row) => row.model === model)!;
}

/** Secrets the traffic below sends; none may reach the database. */
const SECRETS = {
  queryKey: 'sk-live-lifecycle-0123456789abcdef',
  geminiKey: 'AIzaStubKeyForTheExampleOnly000000000000',
  password: 'correct horse battery staple',
  wrongPassword: 'tr0ub4dor&3-wrong',
};
const USER_AGENT = 'lifecycle-test/1.0';

interface Sent {
  route: string;
  status: number;
  body: string;
}

/** Drives the same scripted traffic against an app; returns what it answered. */
async function driveTraffic(base: string): Promise<{ sent: Sent[]; token: string; userId: string }> {
  const sent: Sent[] = [];
  const call = async (
    method: string,
    route: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Sent> => {
    const response = await fetch(base + route, {
      method,
      headers: {
        'user-agent': USER_AGENT,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const result = { route: `${method} ${route}`, status: response.status, body: await response.text() };
    sent.push(result);
    return result;
  };
  const signup = await call('POST', '/auth/signup', { email: 'ada@example.com', password: SECRETS.password });
  const userId = JSON.parse(signup.body).id as string;
  await call('POST', '/auth/signup', { email: 'weak@example.com', password: 'short' });
  await call('POST', '/auth/login', { email: 'ada@example.com', password: SECRETS.wrongPassword });
  const login = await call('POST', '/auth/login', { email: 'ada@example.com', password: SECRETS.password });
  const token = JSON.parse(login.body).token as string;
  const auth = { authorization: `Bearer ${token}` };
  await call('GET', `/api/items/42?q=shoes&api_key=${SECRETS.queryKey}`, undefined, auth);
  await call('POST', '/api/items', { name: 'lamp', price: 12 }, auth);
  await call('GET', '/api/items/5000', undefined, auth);
  await call('GET', '/api/search?q=red+shoes&q=blue', undefined, auth);
  await call('GET', '/api/ai/summary?text=hello', undefined, auth);
  await call('GET', '/api/ai/claude?message=hello', undefined, auth);
  await call('GET', '/api/scrape?url=https%3A%2F%2Fshop.example%2Fp%2F1', undefined, auth);
  await call('GET', '/api/profile', undefined, auth);
  await call('GET', '/api/fail', undefined, auth);
  await call('GET', '/no/such/route');
  await call('POST', '/auth/password-reset', { email: 'ada@example.com' });
  await call('POST', '/auth/logout', undefined, auth);
  sent.push(await chunkedPost(base, '/api/items', ['{"name":', '"chunked",', '"parts":3}']));
  return { sent, token, userId };
}

/** A POST whose body goes out chunked (no Content-Length), the way streaming clients send. */
function chunkedPost(base: string, route: string, chunks: string[]): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${base}${route}`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT } },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ route: `POST ${route} (chunked)`, status: response.statusCode ?? 0, body }),
        );
      },
    );
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe.each([
  { script: 'examples/http-app.mjs', kind: 'ESM app on plain node:http', express: false },
  { script: 'examples/express-app.cjs', kind: 'CommonJS Express app', express: true },
])('$kind under --import otel-pg-analytics/register', ({ script, express }) => {
  let db: TestDatabase;
  let stub: Awaited<ReturnType<typeof startStubApis>>;
  let configDir: string;
  let app: AppProcess;
  let traffic: Awaited<ReturnType<typeof driveTraffic>>;
  let exit: Exit;
  const serviceName = express ? 'lifecycle-express' : 'lifecycle-http';

  beforeAll(async () => {
    db = await createTestDatabase(express ? 'life_express' : 'life_http', { writer: true });
    stub = await startStubApis();
    configDir = mkdtempSync(path.join(os.tmpdir(), 'pga-life-'));
    const configFile = path.join(configDir, 'analytics.json');
    writeFileSync(configFile, JSON.stringify({ services: stubServices(stub.port) }));
    app = await startApp(script, {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.writerUrl,
        OTEL_SERVICE_NAME: serviceName,
        OTEL_ANALYTICS_CONFIG: configFile,
        STUB_API_URL: stub.url,
      },
    });
    traffic = await driveTraffic(app.url);
    exit = await app.stop('SIGTERM');
  });

  afterAll(async () => {
    await app?.stop();
    await stub?.close();
    rmSync(configDir, { recursive: true, force: true });
    await db?.drop();
  });

  const apiRow = async (method: string, pathPrefix: string) =>
    (
      await db.query(`select * from api_access_log where method = $1 and path like $2 order by time`, [
        method,
        `${pathPrefix}%`,
      ])
    )[0]!;

  it('flushes on SIGTERM and then ends by that signal, as the app would without us', () => {
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.stderr()).toBe('');
  });

  it('writes exactly one API row per request served', async () => {
    const [row] = await db.query<{ n: number; spans: number }>(
      'select count(*)::int as n, count(distinct span_id)::int as spans from api_access_log',
    );
    expect(row).toEqual({ n: traffic.sent.length, spans: traffic.sent.length });
  });

  it('fills every column of an ordinary request', async () => {
    const row = await apiRow('GET', '/api/items/42');
    const sent = traffic.sent.find((s) => s.route.startsWith('GET /api/items/42'))!;
    expect(row).toMatchObject({
      service_name: serviceName,
      user_id: traffic.userId,
      endpoint: '/api/items/:id',
      path: '/api/items/42',
      method: 'GET',
      status_code: 200,
      ip_address: '127.0.0.1',
      peer_address: '127.0.0.1',
      user_agent: USER_AGENT,
      request_size: '0',
      response_size: String(Buffer.byteLength(sent.body)),
      query_params: { q: 'shoes', api_key: 'REDACTED' },
      error_message: null,
      sample_weight: 1,
    });
    expect(row.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(row.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(row.response_time_ms).toBeGreaterThan(0);
    expect(row.response_time_ms).toBeLessThan(5000);
    expect(Math.abs(Date.now() - (row.time as Date).getTime())).toBeLessThan(120_000);
  });

  it('records request body sizes, chunked bodies included', async () => {
    const rows = await db.query<{ request_size: string; status_code: number }>(
      `select request_size, status_code from api_access_log where method = 'POST' and path = '/api/items' order by time`,
    );
    expect(rows).toEqual([
      {
        request_size: String(Buffer.byteLength(JSON.stringify({ name: 'lamp', price: 12 }))),
        status_code: 201,
      },
      { request_size: String(Buffer.byteLength('{"name":"chunked","parts":3}')), status_code: 201 },
    ]);
  });

  it('keeps repeated query parameters as arrays', async () => {
    expect((await apiRow('GET', '/api/search')).query_params).toEqual({ q: ['red shoes', 'blue'] });
  });

  it('records failures with a status and a message', async () => {
    expect(await apiRow('GET', '/api/items/5000')).toMatchObject({
      status_code: 404,
      error_message: null,
    });
    expect(await apiRow('GET', '/api/fail')).toMatchObject({
      status_code: 500,
      error_message: express ? 'inventory service exploded' : 'Internal Server Error',
    });
    expect(await apiRow('GET', '/no/such/route')).toMatchObject({
      endpoint: '(unmatched)',
      status_code: 404,
      user_id: null,
      error_message: null,
    });
  });

  it('records every authentication event with who, from where, and the outcome', async () => {
    const events = await db.query(
      `select event_type, user_id, success, error_message, host(ip_address) as ip, user_agent, service_name
       from authentication_log order by time`,
    );
    const common = { ip: '127.0.0.1', user_agent: USER_AGENT, service_name: serviceName };
    expect(events).toEqual([
      { event_type: 'signup', user_id: traffic.userId, success: true, error_message: null, ...common },
      {
        event_type: 'signup',
        user_id: 'weak@example.com',
        success: false,
        error_message: 'weak password',
        ...common,
      },
      {
        event_type: 'login_failed',
        user_id: 'ada@example.com',
        success: false,
        error_message: 'invalid credentials',
        ...common,
      },
      { event_type: 'login', user_id: traffic.userId, success: true, error_message: null, ...common },
      {
        event_type: 'password_reset',
        user_id: 'ada@example.com',
        success: true,
        error_message: null,
        ...common,
      },
      { event_type: 'logout', user_id: traffic.userId, success: true, error_message: null, ...common },
    ]);
  });

  it('attributes the login request itself to the user who logged in', async () => {
    const logins = await db.query<{ status_code: number; user_id: string | null }>(
      `select status_code, user_id from api_access_log where path = '/auth/login' order by time`,
    );
    expect(logins).toEqual([
      { status_code: 401, user_id: null },
      { status_code: 200, user_id: traffic.userId },
    ]);
  });

  it('records outbound calls through fetch and through node:http, with service, user, tokens and cost', async () => {
    const calls = await db.query(
      `select service, endpoint, method, status_code, user_id, cost_estimate, request_size, response_size,
              error_message, response_time_ms, metadata
       from external_api_call_log order by time`,
    );
    const endpoint = (p: string) => `${stub.url}${p}`;
    // Expected costs, by hand from the price table and the tokens the stubs answer with.
    const gemini = price('gemini-2.5-flash');
    const g = STUB_USAGE.gemini;
    const geminiCost =
      ((g.prompt - g.cached) * gemini.inputPerMillion +
        g.cached * gemini.cachedInputPerMillion! +
        (g.candidates + g.thoughts) * gemini.outputPerMillion) /
      1e6;
    const claude = price('claude-sonnet-4-5');
    const a = STUB_USAGE.anthropic;
    const claudeCost =
      (a.input * claude.inputPerMillion +
        a.cacheRead * claude.cachedInputPerMillion! +
        a.cacheWrite5m * claude.cacheWritePerMillion! +
        a.cacheWrite1h * claude.cacheWrite1hPerMillion! +
        a.output * claude.outputPerMillion) /
      1e6;
    expect(calls.map((c) => [c.service, c.endpoint, c.method, c.status_code, c.user_id])).toEqual([
      ['gemini', endpoint('/v1beta/models/gemini-2.5-flash:generateContent'), 'POST', 200, traffic.userId],
      ['anthropic', endpoint('/v1/messages'), 'POST', 200, traffic.userId],
      ['brightdata', endpoint('/request'), 'POST', 200, traffic.userId],
      ['supabase', endpoint('/rest/v1/profiles'), 'GET', 200, traffic.userId],
    ]);
    const [geminiRow, claudeRow, brightdataRow, supabaseRow] = calls;
    // Gemini through fetch (gzip-compressed, as Google serves it); Anthropic through node:http.
    expect(Number(geminiRow!.cost_estimate)).toBeCloseTo(geminiCost, 8);
    expect(geminiRow!.metadata).toMatchObject({
      provider: 'gcp.gemini',
      request_model: 'gemini-2.5-flash',
      response_model: 'gemini-2.5-flash',
      input_tokens: g.prompt,
      cached_input_tokens: g.cached,
      output_tokens: g.candidates + g.thoughts,
      reasoning_tokens: g.thoughts,
      cost_model: 'per_token',
      price_source: gemini.source,
    });
    expect(Number(claudeRow!.cost_estimate)).toBeCloseTo(claudeCost, 8);
    expect(claudeRow!.metadata).toMatchObject({
      provider: 'anthropic',
      response_model: 'claude-sonnet-4-5-20250929',
      input_tokens: a.input + a.cacheRead + a.cacheWrite5m + a.cacheWrite1h,
      cache_write_1h_input_tokens: a.cacheWrite1h,
      output_tokens: a.output,
    });
    expect(brightdataRow!.cost_estimate).toBe('0.00150000');
    expect(supabaseRow).toMatchObject({ cost_estimate: '0.00000000', request_size: '0' });
    expect(Number(supabaseRow!.response_size)).toBe(
      Buffer.byteLength(JSON.stringify([{ id: 1, name: 'row' }])),
    );
    for (const call of calls) {
      expect(call.response_time_ms).toBeGreaterThan(0);
      expect(call.error_message).toBeNull();
    }
    expect(Number(geminiRow!.request_size)).toBeGreaterThan(0);
  });

  it('stores no secret sent in a query string, an outbound URL, a body or auth metadata', async () => {
    const dump = await db.query<{ t: string }>(
      `select t::text from api_access_log t union all select t::text from authentication_log t
       union all select t::text from external_api_call_log t`,
    );
    const text = dump.map((r) => r.t).join('\n');
    for (const secret of [...Object.values(SECRETS), traffic.token]) expect(text).not.toContain(secret);
  });
});

describe('an example app answers exactly as it does without the register entry', () => {
  let db: TestDatabase;
  let stub: Awaited<ReturnType<typeof startStubApis>>;

  beforeAll(async () => {
    db = await createTestDatabase('life_same', { writer: true });
    stub = await startStubApis();
  });

  afterAll(async () => {
    await stub?.close();
    await db?.drop();
  });

  it.each(['examples/http-app.mjs', 'examples/express-app.cjs'])('%s', async (script) => {
    const answers: Sent[][] = [];
    for (const register of [false, true]) {
      const app = await startApp(script, {
        register,
        env: { OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, STUB_API_URL: stub.url },
      });
      const { sent } = await driveTraffic(app.url);
      await app.stop();
      // Session tokens and generated ids are random; everything else must be identical.
      answers.push(sent.map((s) => ({ ...s, body: s.body.replace(/"token":"[^"]+"/, '"token":"…"') })));
    }
    expect(answers[1]).toEqual(answers[0]);
  });
});

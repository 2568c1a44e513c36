// @ts-check
/**
 * A plain `node:http` app (ESM), instrumented without a line of telemetry code except the
 * auth events and the user:
 *
 *   OTEL_ANALYTICS_DATABASE_URL=postgres://... STUB_API_URL=http://127.0.0.1:4010 \
 *     node --import otel-pg-analytics/register examples/http-app.mjs
 *
 * Start the stubbed external APIs first with `node examples/stub-apis.mjs`.
 */
import http from 'node:http';
import { recordAuthEvent, setUser } from 'otel-pg-analytics';
import { createBackend } from './support/example-backend.mjs';

const backend = createBackend({ stubUrl: process.env.STUB_API_URL ?? 'http://127.0.0.1:4010' });

/** @param {http.ServerResponse} res @param {number} status @param {unknown} body */
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** @param {http.IncomingMessage} req @returns {Promise<any>} */
async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @returns {Promise<void>} */
async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const userId = backend.userFromAuthorization(req.headers.authorization);
  if (userId) setUser(userId);
  const route = `${req.method} ${url.pathname}`;
  const item = /^\/api\/items\/([^/]+)$/.exec(url.pathname);

  if (route === 'GET /health') return send(res, 200, { ok: true });
  if (item && req.method === 'GET') {
    const id = Number(item[1]);
    return Number.isInteger(id) && id <= 1000
      ? send(res, 200, { id, name: `item ${id}` })
      : send(res, 404, { error: 'no such item' });
  }
  if (route === 'POST /api/items') return send(res, 201, { created: await readJson(req) });
  if (route === 'GET /api/search') return send(res, 200, { q: url.searchParams.get('q'), results: [] });
  if (route === 'POST /auth/signup') {
    const { email, password } = await readJson(req);
    const result = backend.signup(email, password);
    recordAuthEvent(
      result.ok
        ? { type: 'signup', userId: result.user.id, metadata: { method: 'password' } }
        : { type: 'signup', userId: email, success: false, error: result.reason },
    );
    return result.ok ? send(res, 201, { id: result.user.id }) : send(res, 400, { error: result.reason });
  }
  if (route === 'POST /auth/login') {
    const { email, password } = await readJson(req);
    const result = backend.login(email, password);
    if (!result.ok) {
      recordAuthEvent({
        type: 'login_failed',
        userId: email,
        error: result.reason,
        metadata: { method: 'password' },
      });
      return send(res, 401, { error: result.reason });
    }
    recordAuthEvent({ type: 'login', userId: result.user.id, metadata: { method: 'password' } });
    return send(res, 200, { token: backend.openSession(result.user) });
  }
  if (route === 'POST /auth/logout') {
    const closed = backend.closeSession(req.headers.authorization);
    recordAuthEvent({ type: 'logout', userId: closed, success: closed !== undefined });
    return send(res, closed ? 204 : 401, closed ? null : { error: 'not logged in' });
  }
  if (route === 'POST /auth/password-reset') {
    const { email } = await readJson(req);
    recordAuthEvent({ type: 'password_reset', userId: email, success: backend.knownEmail(email) });
    return send(res, 202, { sent: true });
  }
  if (route === 'GET /api/ai/summary')
    return send(res, 200, { summary: await backend.summarize(url.searchParams.get('text') ?? '') });
  if (route === 'GET /api/ai/chat')
    return send(res, 200, { reply: await backend.chat(url.searchParams.get('message') ?? 'hi') });
  if (route === 'GET /api/ai/claude')
    return send(res, 200, { reply: await backend.claude(url.searchParams.get('message') ?? 'hi') });
  if (route === 'GET /api/scrape')
    return send(res, 200, await backend.scrape(url.searchParams.get('url') ?? 'https://example.com'));
  if (route === 'GET /api/profile') {
    if (!userId) return send(res, 401, { error: 'log in first' });
    return send(res, 200, await backend.profile(userId));
  }
  if (route === 'GET /api/fail') throw new Error('inventory service exploded');
  return send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch(() => {
    // Plain node:http has no framework to report the exception: the row says "Internal Server Error".
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    else res.end();
  });
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}\n`,
  );
});

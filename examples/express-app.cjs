// @ts-check
/**
 * An Express app (CommonJS). Under the register entry, rows carry Express's route templates
 * (`/api/items/:id`) and the messages of errors passed to Express:
 *
 *   OTEL_ANALYTICS_DATABASE_URL=postgres://... STUB_API_URL=http://127.0.0.1:4010 \
 *     node --import otel-pg-analytics/register examples/express-app.cjs
 */
const express = require('express');
const { recordAuthEvent, setUser } = require('otel-pg-analytics');
const { createBackend } = require('./support/example-backend.mjs');

const backend = createBackend({ stubUrl: process.env.STUB_API_URL ?? 'http://127.0.0.1:4010' });
const app = express();
app.use(express.json());

// Attribute every request of a logged-in user; outbound calls made for it follow.
app.use((req, _res, next) => {
  const userId = backend.userFromAuthorization(req.headers.authorization);
  if (userId) setUser(userId);
  next();
});

app.get('/health', (_req, res) => {
  res.json({ ok: true });
});

app.get('/api/items/:id', (req, res) => {
  const id = Number(req.params.id);
  if (Number.isInteger(id) && id <= 1000) res.json({ id, name: `item ${id}` });
  else res.status(404).json({ error: 'no such item' });
});

app.post('/api/items', (req, res) => {
  res.status(201).json({ created: req.body });
});

app.get('/api/search', (req, res) => {
  res.json({ q: req.query.q, results: [] });
});

app.post('/auth/signup', (req, res) => {
  const { email, password } = req.body ?? {};
  const result = backend.signup(email, password);
  if (!result.ok) {
    recordAuthEvent({ type: 'signup', userId: email, success: false, error: result.reason });
    res.status(400).json({ error: result.reason });
    return;
  }
  recordAuthEvent({ type: 'signup', userId: result.user.id, metadata: { method: 'password' } });
  res.status(201).json({ id: result.user.id });
});

app.post('/auth/login', (req, res) => {
  const { email, password } = req.body ?? {};
  const result = backend.login(email, password);
  if (!result.ok) {
    recordAuthEvent({
      type: 'login_failed',
      userId: email,
      error: result.reason,
      metadata: { method: 'password' },
    });
    res.status(401).json({ error: result.reason });
    return;
  }
  recordAuthEvent({ type: 'login', userId: result.user.id, metadata: { method: 'password' } });
  res.json({ token: backend.openSession(result.user) });
});

app.post('/auth/logout', (req, res) => {
  const userId = backend.closeSession(req.headers.authorization);
  recordAuthEvent({ type: 'logout', userId, success: userId !== undefined });
  res.status(userId ? 204 : 401).end();
});

app.post('/auth/password-reset', (req, res) => {
  const { email } = req.body ?? {};
  recordAuthEvent({ type: 'password_reset', userId: email, success: backend.knownEmail(email) });
  res.status(202).json({ sent: true });
});

app.get('/api/ai/summary', async (req, res) => {
  res.json({ summary: await backend.summarize(String(req.query.text ?? '')) });
});

app.get('/api/ai/chat', async (req, res) => {
  res.json({ reply: await backend.chat(String(req.query.message ?? 'hi')) });
});

app.get('/api/ai/claude', async (req, res) => {
  res.json({ reply: await backend.claude(String(req.query.message ?? 'hi')) });
});

app.get('/api/scrape', async (req, res) => {
  res.json(await backend.scrape(String(req.query.url ?? 'https://example.com')));
});

app.get('/api/profile', async (req, res) => {
  const userId = backend.userFromAuthorization(req.headers.authorization);
  if (!userId) {
    res.status(401).json({ error: 'log in first' });
    return;
  }
  res.json(await backend.profile(userId));
});

app.get('/api/fail', () => {
  throw new Error('inventory service exploded');
});

// Express passes the thrown error here; the row keeps its message, the client gets a generic one.
app.use(
  /** @param {unknown} _error @param {express.Request} _req @param {express.Response} res @param {express.NextFunction} _next */
  (_error, _req, res, _next) => {
    res.status(500).json({ error: 'internal error' });
  },
);

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}\n`,
  );
});

// The "express" scenario's app: Express 5 as most services run it. Three middlewares (a request
// id, security headers, CORS), the JSON body parser, a router with `:id` params mounted at /api,
// and an error handler. Items live in memory, so the app's own work stays small and what the
// instrumentation adds shows. GET /api/items/:id reads one, PUT /api/items/:id replaces one
// from its JSON body. Like bench/app.mjs it reports nothing itself.
import { randomUUID } from 'node:crypto';
import express from 'express';

/** @type {Map<string, { id: number, name: string, price: number, tags: string[] }>} */
const items = new Map();
for (let i = 1; i <= 100; i++) {
  items.set(String(i), { id: i, name: `item ${i}`, price: i * 100, tags: ['bench', `group-${i % 7}`] });
}

const app = express();
app.disable('x-powered-by');
app.use((req, res, next) => {
  const id = req.get('x-request-id') ?? randomUUID();
  res.set('x-request-id', id);
  next();
});
app.use((_req, res, next) => {
  res.set({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'no-referrer',
  });
  next();
});
app.use((req, res, next) => {
  res.set('access-control-allow-origin', req.get('origin') ?? '*');
  if (req.method === 'OPTIONS') res.sendStatus(204);
  else next();
});
app.use(express.json({ limit: '100kb' }));

const router = express.Router();
router.get('/items/:id', (req, res) => {
  const item = items.get(req.params.id);
  if (item === undefined) res.status(404).json({ error: 'not found' });
  else res.json(item);
});
router.put('/items/:id', (req, res) => {
  const body = /** @type {{ name?: unknown, price?: unknown, tags?: unknown }} */ (req.body ?? {});
  if (typeof body.name !== 'string' || typeof body.price !== 'number' || !Array.isArray(body.tags)) {
    throw Object.assign(new Error('invalid item'), { status: 400 });
  }
  const item = { id: Number(req.params.id), name: body.name, price: body.price, tags: body.tags.map(String) };
  items.set(req.params.id, item);
  res.json(item);
});
app.use('/api', router);

app.use(
  /** @type {express.ErrorRequestHandler} */ (
    (error, _req, res, _next) => {
      const status = typeof error?.status === 'number' ? error.status : 500;
      res.status(status).json({ error: status === 500 ? 'internal error' : String(error.message) });
    }
  ),
);

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `listening on http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`,
  );
});
server.keepAliveTimeout = 60_000;

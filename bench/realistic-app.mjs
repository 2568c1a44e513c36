// The "realistic" scenario's app: Express 5 with pg, as a small service runs. Four middlewares
// (a request id, a JSON access logger, security headers, CORS), the JSON body parser, a router
// with `:id` params, async handlers querying PostgreSQL through a pg.Pool (APP_DATABASE_URL,
// the tables of bench/app-database.mjs), and an error handler that logs. GET /api/users/:id
// reads a user and their last orders (two queries); POST /api/users/:id/orders writes an order
// in a transaction (BEGIN, INSERT, UPDATE, COMMIT). The logger writes one JSON line per request
// to APP_LOG_FILE (default /dev/null), as apps write theirs to a file or a pipe.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import express from 'express';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.APP_DATABASE_URL, max: 10 });
pool.on('error', (error) => log('error', 'idle client lost', { error: error.message }));
const logStream = createWriteStream(process.env.APP_LOG_FILE ?? '/dev/null', { flags: 'a' });

/**
 * A tiny JSON logger: one line per entry.
 * @param {'info' | 'warn' | 'error'} level
 * @param {string} msg
 * @param {Record<string, unknown>} fields
 */
function log(level, msg, fields) {
  logStream.write(`${JSON.stringify({ level, time: Date.now(), msg, ...fields })}\n`);
}

const app = express();
app.disable('x-powered-by');
app.use((req, res, next) => {
  const id = req.get('x-request-id') ?? randomUUID();
  res.locals.requestId = id;
  res.set('x-request-id', id);
  next();
});
app.use((req, res, next) => {
  const started = performance.now();
  res.on('finish', () =>
    log(res.statusCode >= 500 ? 'error' : 'info', 'request', {
      requestId: res.locals.requestId,
      method: req.method,
      url: req.originalUrl,
      status: res.statusCode,
      ms: Math.round((performance.now() - started) * 100) / 100,
    }),
  );
  next();
});
app.use((_req, res, next) => {
  res.set({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
  next();
});
app.use((req, res, next) => {
  res.set('access-control-allow-origin', req.get('origin') ?? '*');
  if (req.method === 'OPTIONS') res.sendStatus(204);
  else next();
});
app.use(express.json({ limit: '100kb' }));

const router = express.Router();
router.get('/users/:id', async (req, res) => {
  const users = await pool.query('select id, name, email, order_count from users where id = $1', [
    Number(req.params.id),
  ]);
  const user = users.rows[0];
  if (user === undefined) {
    res.status(404).json({ error: 'no such user' });
    return;
  }
  const orders = await pool.query(
    'select id, total_cents, created_at from orders where user_id = $1 order by created_at desc limit 5',
    [user.id],
  );
  res.json({ ...user, orders: orders.rows });
});
router.post('/users/:id/orders', async (req, res) => {
  const lines = /** @type {{ lines?: { quantity: number, unitCents: number }[] }} */ (req.body ?? {}).lines;
  if (!Array.isArray(lines) || lines.length === 0) {
    throw Object.assign(new Error('an order needs lines'), { status: 400 });
  }
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitCents, 0);
  const client = await pool.connect();
  try {
    await client.query('begin');
    const inserted = await client.query(
      'insert into orders (user_id, total_cents, lines) values ($1, $2, $3) returning id, created_at',
      [Number(req.params.id), total, JSON.stringify(lines)],
    );
    await client.query('update users set order_count = order_count + 1 where id = $1', [
      Number(req.params.id),
    ]);
    await client.query('commit');
    res.json({ ...inserted.rows[0], total_cents: total });
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
});
app.use('/api', router);

app.use(
  /** @type {express.ErrorRequestHandler} */ (
    (error, req, res, _next) => {
      const status = typeof error?.status === 'number' ? error.status : 500;
      log('error', 'request failed', {
        requestId: res.locals.requestId,
        url: req.originalUrl,
        error: String(error),
      });
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

// The Express app of the compatibility suite, built on whichever `express` the entry script
// imports (5 from the root, 4 from test/compat/stacks/express4): nested routers with params at
// several levels, app.route(), an error middleware, a preflight answered by middleware.
import { createServer } from 'node:http';

/**
 * @param {typeof import('express')} express
 * @param {{ setUser(id: string): void, asyncHandlers: boolean }} options
 */
export function buildExpressApp(express, { setUser, asyncHandlers }) {
  const app = express();

  // A CORS middleware as apps write it: answers every preflight before any route is matched.
  app.use((req, res, next) => {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.set('access-control-allow-origin', '*');
      res.set('access-control-allow-methods', 'GET,PUT');
      res.sendStatus(204);
      return;
    }
    next();
  });

  app.get('/', (req, res) => res.json({ page: req.query.page ?? '1' }));
  app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
  app.get('/profiles/:username', (req, res) => {
    setUser('user-7');
    res.json({ username: req.params.username });
  });
  app.get('/boom', () => {
    throw new Error('ledger write failed for batch 9');
  });
  app.get('/users/:id/missing', (req, res, next) => {
    next(Object.assign(new Error(`user ${req.params.id} not found`), { status: 404 }));
  });
  if (asyncHandlers) {
    app.get('/async-boom', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('async ledger write failed for batch 11');
    });
  }
  app
    .route('/items/:itemId')
    .get((req, res) => res.json({ itemId: req.params.itemId }))
    .put((req, res) => res.json({ itemId: req.params.itemId, updated: true }));

  const projects = express.Router({ mergeParams: true });
  projects.get('/projects/:projectId', (req, res) => res.json(req.params));
  const v1 = express.Router();
  v1.get('/posts/:slug', (req, res) => res.json({ slug: req.params.slug }));
  v1.get('/orders/:orderId', (req, res) => res.json({ orderId: req.params.orderId }));
  v1.use('/orgs/:orgId', projects);
  const api = express.Router();
  api.use('/v1', v1);
  app.use('/api', api);

  app.use((err, req, res, next) => {
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}

/** Serves `app` on an ephemeral port and prints the line the test harness waits for. */
export function serve(app) {
  const server = createServer(app);
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  });
}

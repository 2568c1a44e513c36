'use strict';
// The Hono app of the compatibility suite, each app and sub-app made by the entry script's
// `createApp` (`new Hono()` or a factory's) from the Hono the script loaded: params of several
// shapes, sub-apps mounted with app.route() (one inside another, one with its own onError), a
// basePath app, middleware on '*' and on a prefix (one answering 401 itself), hono/cors
// answering preflights, HTTPException for a 404 on purpose, and a handler that throws into
// Hono's default error handler.

/**
 * @param {{ createApp(): any, HTTPException: any, cors: Function, setUser(id: string): void }} deps
 */
function buildHonoApp({ createApp, HTTPException, cors, setUser }) {
  const app = createApp();

  // Middleware on every request: must never become the endpoint.
  app.use('*', async (c, next) => {
    await next();
    c.header('x-served-by', 'compat');
  });
  app.use('/api/*', cors({ origin: '*' }));
  app.use('/api/v1/*', async (c, next) => {
    if (c.req.header('x-deny') === 'yes') return c.text('denied', 401);
    await next();
  });

  app.get('/', (c) => c.text('home'));
  app.get('/users/me', (c) => c.json({ me: true }));
  app.get('/users/:userId', (c) => c.json({ id: c.req.param('userId') }));
  app.get('/users/:userId/missing', (c) => {
    throw new HTTPException(404, { message: `user ${c.req.param('userId')} not found` });
  });
  app.get('/profiles/:username', (c) => {
    setUser('user-7');
    return c.json({ username: c.req.param('username') });
  });
  app.on(['GET', 'PUT'], '/items/:itemId', (c) => c.json({ item: c.req.param('itemId') }));
  app.all('/webhooks/:source', (c) => c.json({ source: c.req.param('source') }));
  app.get('/boom', () => {
    throw new Error('hono ledger write failed for batch 9');
  });

  const v1 = createApp();
  v1.get('/posts/:postSlug', (c) => c.json({ slug: c.req.param('postSlug') }));
  v1.get('/orders/:orderId', (c) => c.json({ order: c.req.param('orderId') }));
  v1.get('/orgs/:orgId/projects/:projectId', (c) => c.json(c.req.param()));
  v1.get('/async-boom', async () => {
    await Promise.resolve();
    throw new Error('hono async: inventory sync failed');
  });
  const api = createApp();
  api.route('/v1', v1);
  app.route('/api', api);

  // A sub-app with its own error reply.
  const billing = createApp();
  billing.onError((err, c) => c.json({ error: 'billing failed' }, 500));
  billing.get('/invoices/:invoiceId/render', () => {
    throw new Error('hono billing: invoice render failed');
  });
  app.route('/billing', billing);

  const admin = createApp().basePath('/admin');
  admin.get('/reports/:reportId', (c) => c.json({ report: c.req.param('reportId') }));
  app.route('/', admin);

  return app;
}

/** Serves `app` on PORT (0: any) and prints the line the suite waits for. */
function listen(serve, app) {
  serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
    process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
  });
}

module.exports = { buildHonoApp, listen };

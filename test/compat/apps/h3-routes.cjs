'use strict';
// The h3 app of the compatibility suite, built on the h3 its entry script loaded (`import` in
// h3-app.mjs, `require` of the ES module in h3-app.cjs), served by h3's own serve() (srvx on
// Node): params of several shapes, a sub-app mounted under a prefix, middleware on every
// request and on a prefix (one answering 401 itself), handleCors answering preflights, an
// HTTPError 404 on purpose, and handlers that throw into h3's error response.

/**
 * @param {{ H3: any, HTTPError: any, handleCors: Function, setUser(id: string): void }} deps
 */
function buildH3App({ H3, HTTPError, handleCors, setUser }) {
  const app = new H3();

  // Middleware on every request: must never become the endpoint.
  app.use(async (event, next) => {
    const response = await next();
    event.res.headers.set('x-served-by', 'compat');
    return response;
  });
  app.use((event) => {
    if (!event.url.pathname.startsWith('/api/')) return;
    const answered = handleCors(event, { origin: '*', methods: '*' });
    if (answered !== false) return answered;
  });
  app.use('/api/v1/**', (event) => {
    if (event.req.headers.get('x-deny') === 'yes') return new Response('denied', { status: 401 });
  });

  app.get('/', () => 'home');
  app.get('/users/me', () => ({ me: true }));
  app.get('/users/:userId', (event) => ({ id: event.context.params.userId }));
  app.get('/users/:userId/missing', (event) => {
    throw new HTTPError({ status: 404, message: `user ${event.context.params.userId} not found` });
  });
  app.get('/profiles/:username', (event) => {
    setUser('user-7');
    return { username: event.context.params.username };
  });
  app.get('/items/:itemId', (event) => ({ item: event.context.params.itemId }));
  app.put('/items/:itemId', (event) => ({ updated: event.context.params.itemId }));
  app.get('/files/**:rest', (event) => ({ file: event.context.params.rest }));
  app.get('/boom', () => {
    throw new Error('h3 ledger write failed for batch 9');
  });

  const v1 = new H3();
  v1.get('/posts/:postSlug', (event) => ({ slug: event.context.params.postSlug }));
  v1.get('/orders/:orderId', (event) => ({ order: event.context.params.orderId }));
  v1.get('/orgs/:orgId/projects/:projectId', (event) => event.context.params);
  v1.get('/async-boom', async () => {
    await Promise.resolve();
    throw new Error('h3 async: inventory sync failed');
  });
  app.mount('/api/v1', v1);

  return app;
}

/** Serves `app` with h3's `serve` on PORT (0: any) and prints the line the suite waits for. */
async function listen(serve, app) {
  const server = serve(app, { port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1', silent: true });
  await server.ready();
  process.stdout.write(`listening on ${server.url.replace(/\/$/, '')}\n`);
}

module.exports = { buildH3App, listen };

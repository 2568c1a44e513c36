'use strict';
// The Koa app of the compatibility suite, built on the Koa and @koa/router its entry script
// loaded (`import` in koa-app.mjs, `require` in koa-app.cjs): routers nested under prefixes,
// params of several shapes, a router middleware, the app's own error middleware, a CORS
// middleware answering preflights, and routes added after the router was given to the app.

const UNSCOPED_ERRORS = 'the error middleware handles only /caught/*';

/**
 * @param {{ Koa: any, Router: any, setUser(id: string): void }} deps
 */
function buildKoaApp({ Koa, Router, setUser }) {
  const app = new Koa();

  // The app's own error middleware, as apps write it (for the routes under /caught only, so
  // that /boom reaches Koa's default handler).
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!ctx.path.startsWith('/caught/')) throw err;
      ctx.status = 500;
      ctx.body = { error: 'something went wrong', note: UNSCOPED_ERRORS };
    }
  });

  // A CORS middleware: answers every preflight before any router sees it.
  app.use(async (ctx, next) => {
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('access-control-allow-origin', '*');
      ctx.set('access-control-allow-methods', 'GET,PUT');
      ctx.status = 204;
      return;
    }
    await next();
  });

  const router = new Router();
  router.get('/', (ctx) => {
    ctx.body = 'home';
  });
  router.get('/users/me', (ctx) => {
    ctx.body = { me: true };
  });
  router.get('/users/:userId', (ctx) => {
    ctx.body = { id: ctx.params.userId };
  });
  router.get('/users/:userId/missing', (ctx) => {
    ctx.throw(404, `user ${ctx.params.userId} not found`);
  });
  router.get('/profiles/:username', (ctx) => {
    setUser('user-7');
    ctx.body = { username: ctx.params.username };
  });
  router.get('/items/:itemId', (ctx) => {
    ctx.body = { item: ctx.params.itemId };
  });
  router.put('/items/:itemId', (ctx) => {
    ctx.body = { updated: ctx.params.itemId };
  });
  router.get('/boom', () => {
    throw new Error('koa ledger write failed for batch 9');
  });
  router.get('/caught/boom', async () => {
    await Promise.resolve();
    throw new Error('koa caught: inventory sync failed');
  });

  const v1 = new Router();
  v1.use(async (ctx, next) => {
    if (ctx.get('x-deny') === 'yes') {
      ctx.status = 401;
      ctx.body = 'denied';
      return;
    }
    await next();
  });
  v1.get('/posts/:postSlug', (ctx) => {
    ctx.body = { slug: ctx.params.postSlug };
  });
  v1.get('/orders/:orderId', (ctx) => {
    ctx.body = { order: ctx.params.orderId };
  });
  v1.get('/orgs/:orgId/projects/:projectId', (ctx) => {
    ctx.body = ctx.params;
  });
  const api = new Router({ prefix: '/api' });
  api.use('/v1', v1.routes());

  app.use(api.routes());
  app.use(router.routes());

  // Added after the router was given to the app, as apps that load route modules later do.
  router.get('/late/:lateId', (ctx) => {
    ctx.body = { late: ctx.params.lateId };
  });
  router.get('/caught/late-boom', () => {
    throw new Error('koa caught: late route failed');
  });
  return app;
}

/** Listens on PORT (0: any) and prints the line the suite waits for. */
function listen(app) {
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  });
  return server;
}

module.exports = { buildKoaApp, listen };

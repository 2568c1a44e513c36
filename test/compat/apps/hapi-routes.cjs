'use strict';
// The hapi app of the compatibility suite, built on the hapi its entry script loaded: params of
// several shapes, routes in plugins registered under prefixes (one nested in another), a
// handler that throws, a Boom 404 on purpose, the app's own onPreResponse that turns 500s into
// a friendly reply, hapi's own CORS preflight answer, and a preflight answered by an onRequest
// extension.

/**
 * @param {{ createServer(options: object): any, Boom: any, setUser(id: string): void }} deps
 */
async function buildHapiServer({ createServer, Boom, setUser }) {
  const server = createServer({
    port: Number(process.env.PORT ?? 0),
    host: '127.0.0.1',
    routes: { cors: true },
  });

  // Preflights under /api are answered here, before hapi looks for a route.
  server.ext('onRequest', (request, h) => {
    if (
      request.method === 'options' &&
      request.path.startsWith('/api/') &&
      request.headers['access-control-request-method']
    ) {
      return h.response().code(204).header('access-control-allow-origin', '*').takeover();
    }
    return h.continue;
  });

  server.route([
    { method: 'GET', path: '/', handler: () => 'home' },
    { method: 'GET', path: '/users/me', handler: () => ({ me: true }) },
    { method: 'GET', path: '/users/{userId}', handler: (request) => ({ id: request.params.userId }) },
    {
      method: 'GET',
      path: '/users/{userId}/missing',
      handler: (request) => {
        throw Boom.notFound(`user ${request.params.userId} not found`);
      },
    },
    {
      method: 'GET',
      path: '/profiles/{username}',
      handler: (request) => {
        setUser('user-7');
        return { username: request.params.username };
      },
    },
    {
      method: ['GET', 'PUT'],
      path: '/items/{itemId}',
      handler: (request) => ({ item: request.params.itemId }),
    },
    {
      method: 'GET',
      path: '/boom',
      handler: () => {
        throw new Error('hapi ledger write failed for batch 9');
      },
    },
    {
      method: 'GET',
      path: '/files/{rest*}',
      handler: (request) => ({ file: request.params.rest }),
    },
  ]);

  const v1 = {
    name: 'v1',
    register(plugin) {
      plugin.route([
        {
          method: 'GET',
          path: '/posts/{postSlug}',
          handler: (request) => ({ slug: request.params.postSlug }),
        },
        {
          method: 'GET',
          path: '/orders/{orderId}',
          handler: (request) => ({ order: request.params.orderId }),
        },
        {
          method: 'GET',
          path: '/orgs/{orgId}/projects/{projectId}',
          handler: (request) => request.params,
        },
        {
          method: 'GET',
          path: '/caught/boom',
          handler: async () => {
            await Promise.resolve();
            throw new Error('hapi caught: inventory sync failed');
          },
        },
      ]);
    },
  };
  const api = {
    name: 'api',
    async register(plugin) {
      await plugin.register(v1, { routes: { prefix: '/v1' } });
    },
  };
  await server.register(api, { routes: { prefix: '/api' } });

  // The app's own error reply, as apps write it: it runs after the error was thrown.
  server.ext('onPreResponse', (request, h) => {
    const response = request.response;
    if (response.isBoom && response.output.statusCode === 500) {
      return h.response({ error: 'something went wrong' }).code(500);
    }
    return h.continue;
  });
  return server;
}

/** Starts the server and prints the line the suite waits for. */
async function start(server) {
  await server.start();
  process.stdout.write(`listening on ${server.info.uri}\n`);
}

module.exports = { buildHapiServer, start };

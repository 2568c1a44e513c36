// The Fastify app of the compatibility suite, built on whichever `fastify` the entry script
// imports (5 from the root, 4 from test/compat/stacks/fastify4): routes in prefixed plugins
// (one prefix with a parameter), a custom error handler, and CORS preflights answered by a
// catch-all OPTIONS route.

/**
 * @param {typeof import('fastify').default} Fastify
 * @param {{ setUser(id: string): void, registerCors(app: import('fastify').FastifyInstance): Promise<void> | void }} options
 */
export async function buildFastifyApp(Fastify, { setUser, registerCors }) {
  const app = Fastify();
  await registerCors(app);

  app.get('/users/:id', async (request) => ({ id: request.params.id }));
  app.get('/profiles/:username', async (request) => {
    setUser('user-7');
    return { username: request.params.username };
  });
  app.get('/boom', async () => {
    throw new Error('ledger write failed for batch 9');
  });
  app.get('/users/:id/missing', async (request) => {
    throw Object.assign(new Error(`user ${request.params.id} not found`), { statusCode: 404 });
  });
  await app.register(
    async (v1) => {
      v1.get('/posts/:slug', async (request) => ({ slug: request.params.slug }));
      v1.get('/orders/:orderId', async (request) => ({ orderId: request.params.orderId }));
      await v1.register(
        async (org) => {
          org.get('/projects/:projectId', async (request) => request.params);
        },
        { prefix: '/orgs/:orgId' },
      );
    },
    { prefix: '/api/v1' },
  );

  app.setErrorHandler((error, request, reply) => {
    reply.code(error.statusCode ?? 500).send({ error: error.message });
  });
  return app;
}

/** Listens on an ephemeral port and prints the line the test harness waits for. */
export async function serve(app) {
  const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  process.stdout.write(`listening on ${address}\n`);
}

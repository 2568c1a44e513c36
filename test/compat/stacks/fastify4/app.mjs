// Fastify 4 (this stack's own) under the register entry. @fastify/cors 11 needs Fastify 5, so
// preflights are answered as it answers them: in an onRequest hook, beside an `OPTIONS *` route.
import Fastify from 'fastify';
import { setUser } from '../../../../dist/src/index.js';
import { buildFastifyApp, serve } from '../../apps/fastify-app.mjs';

function registerCors(app) {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply.code(204).header('access-control-allow-origin', '*').send();
      return;
    }
    done();
  });
  app.options('*', (request, reply) => reply.code(204).send());
}

await serve(await buildFastifyApp(Fastify, { setUser, registerCors }));

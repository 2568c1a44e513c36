import { normalizePath } from '../../src/spans/normalize-path.js';
import { describeRouteCases, routed, unrouted, type RouteCase } from './support/route-cases.js';

const UUID = '3f1c2e0a-8b7d-4c6e-9f10-2a3b4c5d6e7f';
const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

const CASES: RouteCase[] = [
  routed({ path: '/?page=2' }, 200, '/'),
  routed({ path: '/users/42' }, 200, '/users/:userId'),
  // Both /users/me and /users/:userId match: the one that answered is the endpoint.
  routed({ path: '/users/me' }, 200, '/users/me'),
  routed({ path: '/profiles/ada' }, 200, '/profiles/:username', { user_id: 'user-7' }),
  routed({ path: '/api/v1/posts/hello-world-2024' }, 200, '/api/v1/posts/:postSlug'),
  routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/:orderId'),
  routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/:orgId/projects/:projectId'),
  // Answered by the v1 router's middleware before the route's handler: still that route.
  routed({ path: `/api/v1/orders/${UUID}`, headers: { 'x-deny': 'yes' } }, 401, '/api/v1/orders/:orderId'),
  routed({ path: '/items/5' }, 200, '/items/:itemId'),
  routed({ method: 'PUT', path: '/items/5' }, 200, '/items/:itemId'),
  // Koa's default handler answers 500.
  routed({ path: '/boom' }, 500, '/boom', { error_message: 'koa ledger write failed for batch 9' }),
  // The app's error middleware catches it and answers 500 itself, without rethrowing.
  routed({ path: '/caught/boom' }, 500, '/caught/boom', {
    error_message: 'koa caught: inventory sync failed',
  }),
  routed({ path: '/users/42/missing' }, 404, '/users/:userId/missing', {
    error_message: 'user 42 not found',
  }),
  // Routes added after app.use(router.routes()).
  routed({ path: '/late/3' }, 200, '/late/:lateId'),
  routed({ path: '/caught/late-boom' }, 500, '/caught/late-boom', {
    error_message: 'koa caught: late route failed',
  }),
  unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  // Reaches the v1 router's middleware, but no route.
  unrouted({ path: '/api/v1/nope/12' }, 404, '(unmatched)'),
  // Preflights answered by the CORS middleware: the template of the route they ask about.
  routed(
    { method: 'OPTIONS', path: `/api/v1/orders/${UUID}`, headers: PREFLIGHT },
    204,
    '/api/v1/orders/:orderId',
  ),
  routed({ method: 'OPTIONS', path: '/users/42', headers: PREFLIGHT }, 204, '/users/:userId'),
  unrouted(
    { method: 'OPTIONS', path: '/definitely/not/here', headers: PREFLIGHT },
    204,
    normalizePath('/definitely/not/here'),
  ),
];

describeRouteCases('a Koa 3 + @koa/router 15 app (ES module)', 'test/compat/apps/koa-app.mjs', CASES);
describeRouteCases('a Koa 3 + @koa/router 15 app (CommonJS)', 'test/compat/apps/koa-app.cjs', CASES);

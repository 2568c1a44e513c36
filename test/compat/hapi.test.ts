import { describeRouteCases, routed, unrouted, type RouteCase } from './support/route-cases.js';

const UUID = '3f1c2e0a-8b7d-4c6e-9f10-2a3b4c5d6e7f';
const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

const CASES: RouteCase[] = [
  routed({ path: '/?page=2' }, 200, '/'),
  routed({ path: '/users/42' }, 200, '/users/{userId}'),
  routed({ path: '/users/me' }, 200, '/users/me'),
  routed({ path: '/profiles/ada' }, 200, '/profiles/{username}', { user_id: 'user-7' }),
  // Routes of a plugin registered under /v1 by a plugin registered under /api.
  routed({ path: '/api/v1/posts/hello-world-2024' }, 200, '/api/v1/posts/{postSlug}'),
  routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/{orderId}'),
  routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/{orgId}/projects/{projectId}'),
  routed({ path: '/items/5' }, 200, '/items/{itemId}'),
  routed({ method: 'PUT', path: '/items/5' }, 200, '/items/{itemId}'),
  routed({ path: '/files/docs/guide.txt' }, 200, '/files/{rest*}'),
  // The app's onPreResponse turns both into its own 500 reply.
  routed({ path: '/boom' }, 500, '/boom', { error_message: 'hapi ledger write failed for batch 9' }),
  routed({ path: '/api/v1/caught/boom' }, 500, '/api/v1/caught/boom', {
    error_message: 'hapi caught: inventory sync failed',
  }),
  routed({ path: '/users/42/missing' }, 404, '/users/{userId}/missing', {
    error_message: 'user 42 not found',
  }),
  unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  // Answered by hapi itself (routes.cors).
  routed({ method: 'OPTIONS', path: '/users/42', headers: PREFLIGHT }, 200, '/users/{userId}'),
  // Answered by the app's onRequest extension, before hapi looks for a route.
  routed(
    { method: 'OPTIONS', path: `/api/v1/orders/${UUID}`, headers: PREFLIGHT },
    204,
    '/api/v1/orders/{orderId}',
  ),
  unrouted({ method: 'OPTIONS', path: '/definitely/not/here', headers: PREFLIGHT }, 404, '(unmatched)'),
];

describeRouteCases('a hapi 21 app (ES module, default import)', 'test/compat/apps/hapi-app.mjs', CASES);
describeRouteCases('a hapi 21 app (ES module, named import)', 'test/compat/apps/hapi-named-app.mjs', CASES);
describeRouteCases('a hapi 21 app (CommonJS)', 'test/compat/apps/hapi-app.cjs', CASES);

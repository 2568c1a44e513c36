import { normalizePath } from '../../src/spans/normalize-path.js';
import { describeRouteCases, routed, unrouted, type RouteCase } from './support/route-cases.js';

const UUID = '3f1c2e0a-8b7d-4c6e-9f10-2a3b4c5d6e7f';
const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

const CASES: RouteCase[] = [
  routed({ path: '/?page=2' }, 200, '/'),
  routed({ path: '/users/42' }, 200, '/users/:userId'),
  routed({ path: '/users/me' }, 200, '/users/me'),
  routed({ path: '/profiles/ada' }, 200, '/profiles/:username', { user_id: 'user-7' }),
  // Routes of a sub-app mounted under /api/v1.
  routed({ path: '/api/v1/posts/hello-world-2024' }, 200, '/api/v1/posts/:postSlug'),
  routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/:orderId'),
  routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/:orgId/projects/:projectId'),
  // Answered by the /api/v1/** middleware: h3 had matched the route first.
  routed({ path: `/api/v1/orders/${UUID}`, headers: { 'x-deny': 'yes' } }, 401, '/api/v1/orders/:orderId'),
  routed({ path: '/items/5' }, 200, '/items/:itemId'),
  routed({ method: 'PUT', path: '/items/5' }, 200, '/items/:itemId'),
  routed({ path: '/files/docs/guide.txt' }, 200, '/files/**:rest'),
  routed({ path: '/boom' }, 500, '/boom', { error_message: 'h3 ledger write failed for batch 9' }),
  routed({ path: '/api/v1/async-boom' }, 500, '/api/v1/async-boom', {
    error_message: 'h3 async: inventory sync failed',
  }),
  routed({ path: '/users/42/missing' }, 404, '/users/:userId/missing', {
    error_message: 'user 42 not found',
  }),
  unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  unrouted({ path: '/api/v1/nope/12' }, 404, '(unmatched)'),
  // handleCors answers in middleware: the template of the route the preflight asks about.
  routed(
    { method: 'OPTIONS', path: `/api/v1/orders/${UUID}`, headers: PREFLIGHT },
    204,
    '/api/v1/orders/:orderId',
  ),
  unrouted({ method: 'OPTIONS', path: '/api/nope', headers: PREFLIGHT }, 204, normalizePath('/api/nope')),
];

describeRouteCases('an h3 2 app on srvx (ES module)', 'test/compat/apps/h3-app.mjs', CASES);
describeRouteCases(
  'an h3 2 app on srvx (CommonJS, require of the ES module)',
  'test/compat/apps/h3-app.cjs',
  CASES,
);

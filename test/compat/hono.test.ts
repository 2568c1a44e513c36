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
  // v1 mounted in api with route('/v1'), api in the app with route('/api').
  routed({ path: '/api/v1/posts/hello-world-2024' }, 200, '/api/v1/posts/:postSlug'),
  routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/:orderId'),
  routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/:orgId/projects/:projectId'),
  // Answered by the /api/v1/* middleware: the route the router matched for the request.
  routed({ path: `/api/v1/orders/${UUID}`, headers: { 'x-deny': 'yes' } }, 401, '/api/v1/orders/:orderId'),
  routed({ path: '/admin/reports/q3-2024' }, 200, '/admin/reports/:reportId'),
  routed({ path: '/items/5' }, 200, '/items/:itemId'),
  routed({ method: 'PUT', path: '/items/5' }, 200, '/items/:itemId'),
  routed({ method: 'POST', path: '/webhooks/stripe' }, 200, '/webhooks/:source'),
  // Hono's default error handler answers 500.
  routed({ path: '/boom' }, 500, '/boom', { error_message: 'hono ledger write failed for batch 9' }),
  routed({ path: '/api/v1/async-boom' }, 500, '/api/v1/async-boom', {
    error_message: 'hono async: inventory sync failed',
  }),
  // The billing sub-app's own onError answers.
  routed({ path: '/billing/invoices/77/render' }, 500, '/billing/invoices/:invoiceId/render', {
    error_message: 'hono billing: invoice render failed',
  }),
  routed({ path: '/users/42/missing' }, 404, '/users/:userId/missing', {
    error_message: 'user 42 not found',
  }),
  unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  // Only the '*' and /api/* middleware match.
  unrouted({ path: '/api/v1/nope/12' }, 404, '(unmatched)'),
  // hono/cors answers: the template of the route the preflight asks about, else none.
  routed(
    { method: 'OPTIONS', path: `/api/v1/orders/${UUID}`, headers: PREFLIGHT },
    204,
    '/api/v1/orders/:orderId',
  ),
  unrouted({ method: 'OPTIONS', path: '/api/nope', headers: PREFLIGHT }, 204, normalizePath('/api/nope')),
];

describeRouteCases('a Hono 4 app on @hono/node-server (ES module)', 'test/compat/apps/hono-app.mjs', CASES);
describeRouteCases('a Hono 4 app on @hono/node-server (CommonJS)', 'test/compat/apps/hono-app.cjs', CASES);

// hono/factory makes its apps from Hono's class file, not from the 'hono' entry the app imports;
// the app must still be an instance of the Hono it imported.
const MADE_BY_FACTORY = { printed: ['app instanceof Hono: true'] };
describeRouteCases(
  'a Hono 4 app made by createFactory().createApp() (ES module)',
  'test/compat/apps/hono-factory-app.mjs',
  CASES,
  MADE_BY_FACTORY,
);
describeRouteCases(
  'a Hono 4 app made by createFactory().createApp() (CommonJS)',
  'test/compat/apps/hono-factory-app.cjs',
  CASES,
  MADE_BY_FACTORY,
);

describeRouteCases(
  'a Hono 4 app on the hono/tiny preset (ES module)',
  'test/compat/apps/hono-preset-app.mjs',
  [
    routed({ path: '/users/42' }, 200, '/users/:userId'),
    routed({ path: '/boom' }, 500, '/boom', { error_message: 'hono tiny: ledger write failed' }),
    unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  ],
);
describeRouteCases(
  'a Hono 4 app on the hono/quick preset (CommonJS)',
  'test/compat/apps/hono-preset-app.cjs',
  [
    routed({ path: '/users/42' }, 200, '/users/:userId'),
    routed({ path: '/boom' }, 500, '/boom', { error_message: 'hono quick: ledger write failed' }),
    unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  ],
);

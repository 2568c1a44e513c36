import { normalizePath } from '../../src/spans/normalize-path.js';
import { describeRouteCases, routed, unrouted, type RouteCase } from './support/route-cases.js';

const UUID = '3f1c2e0a-8b7d-4c6e-9f10-2a3b4c5d6e7f';
const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

const CASES: RouteCase[] = [
  routed({ path: '/users/42' }, 200, '/users/:id'),
  routed({ method: 'HEAD', path: '/users/42' }, 200, '/users/:id'),
  routed({ path: '/profiles/ada' }, 200, '/profiles/:username', { user_id: 'user-7' }),
  routed({ path: '/api/v1/posts/hello-world-2024?draft=1' }, 200, '/api/v1/posts/:slug'),
  routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/:orderId'),
  routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/:orgId/projects/:projectId'),
  routed({ path: '/boom' }, 500, '/boom', { error_message: 'ledger write failed for batch 9' }),
  routed({ path: '/users/42/missing' }, 404, '/users/:id/missing', {
    error_message: 'user 42 not found',
  }),
  unrouted({ path: '/api/v1/nope/12' }, 404, '(unmatched)'),
  unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
  // Answered by the catch-all OPTIONS route's hook: recorded under the route it asks about.
  routed({ method: 'OPTIONS', path: '/profiles/ada', headers: PREFLIGHT }, 204, '/profiles/:username'),
  routed(
    { method: 'OPTIONS', path: '/api/v1/orgs/17/projects/99', headers: PREFLIGHT },
    204,
    '/api/v1/orgs/:orgId/projects/:projectId',
  ),
  // A preflight for a path no route serves stays unrouted.
  unrouted({ method: 'OPTIONS', path: '/nowhere/12', headers: PREFLIGHT }, 204, normalizePath('/nowhere/12')),
];

describeRouteCases('Fastify 5', 'test/compat/apps/fastify5-app.mjs', CASES);
describeRouteCases('Fastify 4', 'test/compat/stacks/fastify4/app.mjs', CASES);

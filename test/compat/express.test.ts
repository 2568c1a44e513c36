import { normalizePath } from '../../src/spans/normalize-path.js';
import { describeRouteCases, routed, unrouted, type RouteCase } from './support/route-cases.js';

const UUID = '3f1c2e0a-8b7d-4c6e-9f10-2a3b4c5d6e7f';
const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

function cases({ asyncHandlers }: { asyncHandlers: boolean }): RouteCase[] {
  return [
    routed({ path: '/?page=2' }, 200, '/'),
    routed({ path: '/users/42' }, 200, '/users/:id'),
    routed({ path: '/profiles/ada' }, 200, '/profiles/:username', { user_id: 'user-7' }),
    routed({ path: '/api/v1/posts/hello-world-2024' }, 200, '/api/v1/posts/:slug'),
    routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/:orderId'),
    routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/:orgId/projects/:projectId'),
    routed({ path: '/items/5' }, 200, '/items/:itemId'),
    routed({ method: 'PUT', path: '/items/5' }, 200, '/items/:itemId'),
    // Thrown synchronously, and passed to next(): the error middleware answers.
    routed({ path: '/boom' }, 500, '/boom', { error_message: 'ledger write failed for batch 9' }),
    ...(asyncHandlers
      ? [
          routed({ path: '/async-boom' }, 500, '/async-boom', {
            error_message: 'async ledger write failed for batch 11',
          }),
        ]
      : []),
    routed({ path: '/users/42/missing' }, 404, '/users/:id/missing', {
      error_message: 'user 42 not found',
    }),
    // Falls through the /api and /v1 routers to Express's finalhandler: no route, no error.
    unrouted({ path: '/api/v1/nope/12' }, 404, '(unmatched)'),
    unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
    // Answered by middleware before any route is matched: Express cannot say which route the
    // preflight is for (only a re-implementation of its routing could), so it stays unrouted.
    unrouted(
      { method: 'OPTIONS', path: '/profiles/ada', headers: PREFLIGHT },
      204,
      normalizePath('/profiles/ada'),
    ),
  ];
}

describeRouteCases('Express 5', 'test/compat/apps/express5-app.mjs', cases({ asyncHandlers: true }));
describeRouteCases('Express 4', 'test/compat/stacks/express4/app.mjs', cases({ asyncHandlers: false }));

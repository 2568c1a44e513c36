import { normalizePath } from '../../src/spans/normalize-path.js';
import { describeRouteCases, routed, unrouted, type RouteCase } from './support/route-cases.js';

const UUID = '3f1c2e0a-8b7d-4c6e-9f10-2a3b4c5d6e7f';
const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

function cases({ preflightRouted }: { preflightRouted: boolean }): RouteCase[] {
  const preflight = { method: 'OPTIONS', path: '/api/profiles/ada', headers: PREFLIGHT };
  return [
    routed({ path: '/api/users/42' }, 200, '/api/users/:id'),
    routed({ path: '/api/profiles/ada' }, 200, '/api/profiles/:username', { user_id: 'user-7' }),
    routed({ path: '/api/v1/posts/hello-world-2024' }, 200, '/api/v1/posts/:slug'),
    routed({ path: `/api/v1/orders/${UUID}` }, 200, '/api/v1/orders/:orderId'),
    routed({ path: '/api/v1/orgs/17/projects/99' }, 200, '/api/v1/orgs/:orgId/projects/:projectId'),
    // Nest's exception filters answer these; the row keeps what was thrown.
    routed({ path: '/api/boom' }, 500, '/api/boom', { error_message: 'ledger write failed for batch 9' }),
    routed({ path: '/api/users/42/missing' }, 404, '/api/users/:id/missing', {
      error_message: 'user 42 not found',
    }),
    // Nest's own 404 (`Cannot GET ...`) is not an error of the app's.
    unrouted({ path: '/api/nope/12' }, 404, '(unmatched)'),
    unrouted({ path: '/definitely/not/here' }, 404, '(unmatched)'),
    // enableCors(): on Fastify the preflight is recorded under the route it asks about; on
    // Express the cors middleware answers before any route is matched.
    preflightRouted
      ? routed(preflight, 204, '/api/profiles/:username')
      : unrouted(preflight, 204, normalizePath(preflight.path)),
  ];
}

describeRouteCases(
  'NestJS on Express',
  'test/compat/apps/nest-express-app.mjs',
  cases({ preflightRouted: false }),
);
describeRouteCases(
  'NestJS on Fastify',
  'test/compat/apps/nest-fastify-app.mjs',
  cases({ preflightRouted: true }),
);

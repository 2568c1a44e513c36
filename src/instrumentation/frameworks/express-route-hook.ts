import { context, type Span } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import type { ExpressRequestInfo } from '@opentelemetry/instrumentation-express';
import { safeExecute } from '../../support/safe-execute.js';

/** The route template of the request handler a request reached, kept on the request. */
const MATCHED_ROUTE = Symbol('otel-pg-analytics.express-matched-route');

type WithMatchedRoute = { [MATCHED_ROUTE]?: string | undefined };

/**
 * instrumentation-express's `requestHook`: keeps `http.route` to the templates of routes a
 * request actually reached. The instrumentation writes the path of every layer it passes into
 * the request's RPC metadata, routers and middleware included, so a 404 that falls through
 * `app.use('/api', router)` to Express's finalhandler would be recorded under `/api`. Here a
 * request handler (a route's layer) confirms its template; any other layer puts back the last
 * confirmed one, or none. A route mounted at the root, which the instrumentation leaves
 * without a template when the URL has a query string, gets `/`.
 */
export function keepMatchedExpressRoute(_span: Span, info: ExpressRequestInfo): void {
  safeExecute(
    'express route',
    () => {
      const metadata = getRPCMetadata(context.active());
      if (!metadata) return;
      const request = info.request as WithMatchedRoute;
      // A string enum of the instrumentation's, compared by value: importing it would load it.
      if ((info.layerType as string) === 'request_handler') {
        metadata.route ??= info.route === '' ? '/' : info.route;
        request[MATCHED_ROUTE] = metadata.route;
      } else {
        metadata.route = request[MATCHED_ROUTE];
      }
    },
    undefined,
  );
}

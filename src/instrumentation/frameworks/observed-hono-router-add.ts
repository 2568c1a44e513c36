import { safeExecute } from '../../support/safe-execute.js';
import { preflightMethod } from './preflight-method.js';
import { hasReportedRoute, reportRoute } from './report-route.js';
import { reportThrownError } from './report-thrown-error.js';
import { whenSettled } from './when-settled.js';

/** Marks a Context whose route was already looked up once. */
const LOOKED_UP = Symbol('otel-pg-analytics.hono-looked-up');

/** What Hono keeps for each registered handler beside it in the router (`app.routes` holds the same). */
interface RouterRouteLike {
  method?: unknown;
  path?: unknown;
  handler?: unknown;
}

/** The parts of a Hono Context the observed handlers read (structural: Hono is the app's). */
interface ContextLike {
  error?: unknown;
  req?: { method?: unknown; path?: unknown; header?(name: string): unknown };
  [LOOKED_UP]?: true;
}

type Handler = (this: unknown, c: ContextLike, next: unknown) => unknown;

/** A Hono router: `add(method, path, [handler, route])`, `match(method, path)`. */
interface HonoRouterLike {
  match(method: string, path: string): unknown;
}

/** A router's `add`, as every Hono router class has it. */
export type RouterAdd = (this: HonoRouterLike, method: string, path: string, entry: unknown) => unknown;

/**
 * Whether a registered handler is a route's rather than middleware's: registered for a method
 * (`app.get()`, `app.on()`), or for all methods on a path without a wildcard (`app.all('/x')`).
 * `app.use()` registers for all methods on `*` or a path ending in `*`, as `app.mount()` does.
 */
function isRouteHandler(method: unknown, path: unknown): path is string {
  return typeof path === 'string' && (method !== 'ALL' || !path.endsWith('*'));
}

/**
 * A Hono router class's `add` (every app's router calls it for each handler the app, its
 * `basePath()` copies or sub-apps mounted with `app.route()` register) that observes the
 * handler it is given: when it runs, a route's handler reports its template (`path` is the
 * full one: base paths and `app.route()` prefixes are merged before Hono adds it), and what any
 * handler throws is noted before Hono's error handler turns it into a response. When a
 * middleware settles and no route's handler ran (it answered itself, or the request has no
 * route), the route the router matches for the request is reported, and for a CORS preflight
 * the route it asks about. `app.routes` and the route helpers keep seeing the app's own handlers.
 */
export function observedHonoRouterAdd(add: RouterAdd, isEnabled: () => boolean): RouterAdd {
  return function (this: HonoRouterLike, method: string, path: string, entry: unknown): unknown {
    const observed = safeExecute(
      'hono route registration',
      () => observeEntry(this, method, path, entry, isEnabled),
      entry,
    );
    return add.call(this, method, path, observed);
  };
}

/** `[handler, route]` as Hono adds it, with the handler observed. */
function observeEntry(
  router: HonoRouterLike,
  method: string,
  path: string,
  entry: unknown,
  isEnabled: () => boolean,
): unknown {
  // Only what Hono's apps add: `[handler, route]` with the route naming the same handler. An
  // entry observed already (a SmartRouter hands its entries on to the router it picks) names
  // the app's handler, not the observed one, so it is passed on as it is.
  if (!Array.isArray(entry) || typeof entry[0] !== 'function') return entry;
  if ((entry[1] as RouterRouteLike | null | undefined)?.handler !== entry[0]) return entry;
  const handler = entry[0] as Handler;
  const route = isRouteHandler(method, path) ? path : undefined;
  const observed = function (this: unknown, c: ContextLike, next: unknown): unknown {
    if (!isEnabled()) return handler.call(this, c, next);
    if (route !== undefined) safeExecute('hono route', () => reportRoute(route), undefined);
    let result: unknown;
    try {
      result = handler.call(this, c, next);
    } catch (error) {
      safeExecute('hono route', () => afterHandler(router, route, c), undefined);
      safeExecute('hono error', () => reportThrownError(error), undefined);
      throw error;
    }
    return whenSettled(result, () => afterHandler(router, route, c));
  };
  return [observed, ...(entry.slice(1) as unknown[])];
}

/**
 * After a handler ran: an error Hono caught deeper down (a sub-app's own `onError`, a next
 * handler's throw) is noted from `c.error`; if no route's handler ran, the route is looked up.
 */
function afterHandler(router: HonoRouterLike, route: string | undefined, c: ContextLike): void {
  if (c.error !== undefined && c.error !== null) reportThrownError(c.error);
  if (route !== undefined || c[LOOKED_UP] || hasReportedRoute()) return;
  Object.defineProperty(c, LOOKED_UP, { value: true });
  reportRoute(matchedRoute(router, c));
}

/**
 * The template of the first route's handler the router matches for the request (a
 * preflight's: for the method it asks about). Hono's routers all answer `match()` with the
 * handlers in order as `[[[handler, route], params], ...]` first.
 */
function matchedRoute(router: HonoRouterLike, c: ContextLike): string | undefined {
  const request = c.req;
  const method = request?.method;
  const path = request?.path;
  if (typeof method !== 'string' || typeof path !== 'string') return undefined;
  const asked = preflightMethod(method, request?.header?.('access-control-request-method'));
  // Hono answers HEAD with its GET routes.
  const lookup = asked ?? (method === 'HEAD' ? 'GET' : method);
  const handlers = (router.match(lookup, path) as unknown[] | undefined)?.[0];
  if (!Array.isArray(handlers)) return undefined;
  for (const matched of handlers as unknown[][]) {
    const registered = (matched?.[0] as unknown[] | undefined)?.[1] as RouterRouteLike | undefined;
    if (isRouteHandler(registered?.method, registered?.path)) return registered.path;
  }
  return undefined;
}

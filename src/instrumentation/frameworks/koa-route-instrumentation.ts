import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';
import { VERSION } from '../../version.js';
import {
  reachedRouteOf,
  routerRouteFor,
  type KoaRouterLike,
  type RoutedContextLike,
} from './koa-router-routes.js';
import { isPromise } from './is-promise.js';
import { exportedPrototype, guardedPatch, unwrapMethods } from './module-exports.js';
import { preflightMethod } from './preflight-method.js';
import { reportRoute } from './report-route.js';
import { reportAndRethrow } from './report-thrown-error.js';
import { whenSettled } from './when-settled.js';

/** The routers an app was given (`app.use(router.routes())`), for preflights. */
const ROUTERS = Symbol('otel-pg-analytics.koa-routers');
/** Marks a router dispatch this instrumentation already observes. */
const OBSERVED = Symbol('otel-pg-analytics.koa-observed');
/** More routers than any app mounts directly; further ones are not remembered. */
const MAX_ROUTERS_PER_APP = 32;

type Middleware = (this: unknown, ctx: KoaContextLike, next: unknown) => unknown;

interface KoaContextLike extends RoutedContextLike {
  path?: unknown;
  get?(field: string): unknown;
}

interface KoaAppLike {
  [ROUTERS]?: KoaRouterLike[];
}

interface KoaPrototype {
  use(this: KoaAppLike, middleware: unknown, ...rest: unknown[]): unknown;
  handleRequest(this: KoaAppLike, ctx: KoaContextLike, fnMiddleware: unknown): unknown;
}

interface RouterPrototype {
  routes(this: unknown, ...args: unknown[]): unknown;
  middleware(this: unknown, ...args: unknown[]): unknown;
}

/**
 * Koa 2 and 3 with `@koa/router` (or `koa-router`) 12 to 15: route templates and thrown errors,
 * without spans. Each router dispatch (`router.routes()`) is observed: when it settles, the
 * template of the route the request reached is written into the request's RPC metadata (it
 * becomes `http.route`), and an error thrown by a route's handler or a router middleware is
 * noted before it travels up to the app's own error middleware (which often turns it into a
 * 500 without rethrowing). Routes added after `app.use(router.routes())` count like the others.
 *
 * Koa itself: an error nobody caught is noted on its way to Koa's default handler, and a CORS
 * preflight gets the template of the route it asks about from the routers given to `app.use()`
 * (answered by a CORS middleware, it never reaches a router).
 *
 * Used instead of `@opentelemetry/instrumentation-koa`, which patches a router's routes when it
 * is passed to `app.use()` (routes added later get no route and no error), reports a router
 * middleware's path (`/api(?:\/|$)`) when that middleware answers, and costs a span per layer.
 */
export class KoaRouteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/koa-routes', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const koa = new InstrumentationNodeModuleDefinition(
      'koa',
      ['>=2.0.0 <4'],
      guardedPatch('koa patch', (moduleExports) => this.#patchKoa(exportedPrototype(moduleExports, 'Koa'))),
      (moduleExports: unknown) =>
        unwrapMethods(exportedPrototype(moduleExports, 'Koa'), ['use', 'handleRequest'], this._unwrap),
    );
    const routers = ['@koa/router', 'koa-router'].map(
      (name) =>
        new InstrumentationNodeModuleDefinition(
          name,
          ['>=12.0.0 <16'],
          guardedPatch('koa router patch', (moduleExports) =>
            this.#patchRouter(exportedPrototype(moduleExports, 'Router')),
          ),
          (moduleExports: unknown) =>
            unwrapMethods(exportedPrototype(moduleExports, 'Router'), ['routes', 'middleware'], this._unwrap),
        ),
    );
    return [koa, ...routers];
  }

  #patchKoa(prototype: Record<string, unknown> | undefined): void {
    const proto = prototype as KoaPrototype | undefined;
    if (typeof proto?.use !== 'function' || typeof proto.handleRequest !== 'function') return;
    this._wrap(
      proto,
      'use',
      (original) =>
        function use(this: KoaAppLike, middleware: unknown, ...rest: unknown[]): unknown {
          safeExecute('koa use', () => rememberRouter(this, middleware), undefined);
          return original.call(this, middleware, ...rest);
        },
    );
    const isEnabled = (): boolean => this.isEnabled();
    this._wrap(
      proto,
      'handleRequest',
      (original) =>
        function handleRequest(this: KoaAppLike, ctx: KoaContextLike, fnMiddleware: unknown): unknown {
          if (!isEnabled() || typeof fnMiddleware !== 'function') {
            return original.call(this, ctx, fnMiddleware);
          }
          safeExecute('koa preflight', () => reportPreflightRoute(this, ctx), undefined);
          const middleware = fnMiddleware as (ctx: KoaContextLike) => unknown;
          return original.call(this, ctx, (context: KoaContextLike) => {
            const result = middleware(context);
            return isPromise(result) ? result.then(undefined, reportAndRethrow) : result;
          });
        },
    );
  }

  #patchRouter(prototype: Record<string, unknown> | undefined): void {
    const proto = prototype as RouterPrototype | undefined;
    if (!proto) return;
    const isEnabled = (): boolean => this.isEnabled();
    for (const name of ['routes', 'middleware'] as const) {
      if (typeof proto[name] !== 'function') continue;
      this._wrap(
        proto,
        name,
        (original) =>
          function dispatchFactory(this: unknown, ...args: unknown[]): unknown {
            const dispatch = original.apply(this, args);
            return safeExecute('koa router dispatch', () => observeDispatch(dispatch, isEnabled), dispatch);
          },
      );
    }
  }
}

function rememberRouter(app: KoaAppLike, middleware: unknown): void {
  const router = (middleware as { router?: Partial<KoaRouterLike> } | null | undefined)?.router;
  if (typeof router?.match !== 'function') return;
  let routers = app[ROUTERS];
  if (!routers) {
    routers = [];
    Object.defineProperty(app, ROUTERS, { value: routers, configurable: true });
  }
  if (routers.length < MAX_ROUTERS_PER_APP && !routers.includes(router as KoaRouterLike)) {
    routers.push(router as KoaRouterLike);
  }
}

function reportPreflightRoute(app: KoaAppLike, ctx: KoaContextLike): void {
  const routers = app[ROUTERS];
  if (!routers || typeof ctx.get !== 'function' || typeof ctx.path !== 'string') return;
  const asked = preflightMethod(ctx.method, ctx.get('access-control-request-method'));
  if (asked === undefined) return;
  for (const router of routers) {
    const template = routerRouteFor(router, ctx.path, asked);
    if (template !== undefined) return reportRoute(template);
  }
}

/**
 * Wraps a router's dispatch so that, when it settles, the route the request reached is
 * reported, and an error it rejects with is noted; the result is otherwise the same. Keeps the
 * dispatch's own properties (`router`, which nesting and `app.use()` read).
 */
function observeDispatch(dispatch: unknown, isEnabled: () => boolean): unknown {
  if (typeof dispatch !== 'function' || (dispatch as { [OBSERVED]?: true })[OBSERVED]) return dispatch;
  const inner = dispatch as Middleware;
  const observed = function dispatch(this: unknown, ctx: KoaContextLike, next: unknown): unknown {
    const result = inner.call(this, ctx, next);
    return isEnabled() ? whenSettled(result, () => reportRoute(reachedRouteOf(ctx))) : result;
  };
  Object.assign(observed, dispatch);
  Object.defineProperty(observed, OBSERVED, { value: true });
  return observed;
}

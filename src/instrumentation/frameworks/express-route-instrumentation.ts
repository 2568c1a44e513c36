import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';
import { VERSION } from '../../version.js';
import {
  expressAppRouter,
  expressRoutesChanged,
  isExpressApp,
  noteMountedApp,
  noteMountPath,
} from './express-route-templates.js';
import { exportObjects, guardedPatch } from './module-exports.js';
import { noteExpressError } from './record-express-outcome.js';

/** The names Express 4 (`handle_error`) and the `router` package (`handleError`) give it. */
const HANDLE_ERROR_NAMES = ['handle_error', 'handleError'];

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface StackOwner {
  stack?: unknown[];
}

/** Where Express 4 (`Router` itself) and 5 (`Router.prototype`) keep `use`. */
interface RouterMethods {
  use?: Method;
  route?: unknown;
}

/** The Layer prototypes patched, one per copy of Express 4 or of `router`, for unpatching. */
const layerPrototypes = new Set<Record<string, unknown>>();

/**
 * Express 4 and 5: what it takes to learn route templates and errors, without spans and
 * without any work on a request that goes well. The route itself is read from `req.route` as
 * the response finishes (`reportExpressRoute`, onto the request's RPC metadata, where
 * instrumentation-http names its span and metric from), and again as its span ends
 * (`recordExpressOutcome`, for a response that never finished); here:
 *
 * - `use()` (routers and apps) records the path each layer was mounted at, which Express 4
 *   keeps nowhere, and which app a layer mounts, so that a route's full template can be found;
 * - the router Layer's error handling (`handle_error` / `handleError`), which Express calls
 *   only while an error is pending (for the app's own error middleware too), and
 *   `finalhandler`, which Express ends an unhandled error in, keep the error on the request.
 *
 * Used instead of `@opentelemetry/instrumentation-express`, which wraps every middleware and
 * router layer and starts a span in each for every request, to learn the same.
 */
export class ExpressRouteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/express-routes', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const isEnabled = (): boolean => this.isEnabled();
    return [
      new InstrumentationNodeModuleDefinition(
        'express',
        ['>=4.0.0 <6'],
        guardedPatch('express patch', (moduleExports) => this.#patchExpress(moduleExports)),
        (moduleExports: unknown) => this.#unpatchExpress(moduleExports),
      ),
      // A function is the module: the one Express required is replaced, not patched.
      new InstrumentationNodeModuleDefinition('finalhandler', ['>=1.0.0 <3'], (moduleExports: unknown) =>
        safeExecute(
          'finalhandler patch',
          () => observedFinalhandler(moduleExports, isEnabled),
          moduleExports,
        ),
      ),
    ];
  }

  #patchExpress(moduleExports: unknown): void {
    for (const exports of expressExports(moduleExports)) {
      this.#patchRouter(exports.Router);
      this.#patchApplication(exports.application as RouterMethods | undefined);
    }
  }

  #unpatchExpress(moduleExports: unknown): void {
    for (const exports of expressExports(moduleExports)) {
      const router = routerMethodsOf(exports.Router);
      if (router && isWrapped(router.use)) this._unwrap(router, 'use');
      const application = exports.application as RouterMethods | undefined;
      if (application && isWrapped(application.use)) this._unwrap(application, 'use');
    }
    for (const prototype of layerPrototypes) {
      for (const name of HANDLE_ERROR_NAMES) if (isWrapped(prototype[name])) this._unwrap(prototype, name);
    }
    layerPrototypes.clear();
  }

  #patchRouter(Router: unknown): void {
    const router = routerMethodsOf(Router);
    const originalUse = router?.use;
    if (!router || typeof originalUse !== 'function' || isWrapped(originalUse)) return;
    this.#patchLayer(Router as Method, originalUse);
    this._wrap(
      router as { use: Method },
      'use',
      (original: Method) =>
        function use(this: unknown, ...args: unknown[]): unknown {
          const stack = (this as StackOwner | undefined)?.stack;
          const before = Array.isArray(stack) ? stack.length : 0;
          const result = original.apply(this, args);
          safeExecute('express use', () => noteMounts(this as StackOwner, before, args), undefined);
          return result;
        },
    );
  }

  /**
   * Express exports no Layer: its prototype is found on the layer a throwaway router makes,
   * and its error handling noted on.
   */
  #patchLayer(Router: Method, use: Method): void {
    const probe = Router() as StackOwner;
    use.call(probe, function probe() {});
    const layer = probe.stack?.[0];
    const prototype = layer ? (Object.getPrototypeOf(layer) as Record<string, unknown> | null) : null;
    if (!prototype) return;
    for (const name of HANDLE_ERROR_NAMES) {
      if (typeof prototype[name] !== 'function' || isWrapped(prototype[name])) continue;
      this._wrap(
        prototype as Record<string, Method>,
        name,
        (original: Method) =>
          function handleError(this: unknown, error: unknown, req: unknown, ...rest: unknown[]): unknown {
            safeExecute('express error', () => noteExpressError(req, error), undefined);
            return original.call(this, error, req, ...rest);
          },
      );
      layerPrototypes.add(prototype);
    }
  }

  #patchApplication(application: RouterMethods | undefined): void {
    if (typeof application?.use !== 'function' || isWrapped(application.use)) return;
    this._wrap(
      application as { use: Method },
      'use',
      (original: Method) =>
        function use(this: unknown, ...args: unknown[]): unknown {
          const result = original.apply(this, args);
          safeExecute('express app use', () => noteMountedApps(this, args), undefined);
          return result;
        },
    );
  }
}

/** Express's `module.exports` is `express()` itself; imported as a module, its namespace. */
function expressExports(moduleExports: unknown): Record<string, unknown>[] {
  return typeof moduleExports === 'function'
    ? [moduleExports as unknown as Record<string, unknown>]
    : exportObjects(moduleExports);
}

/** Express 5's `Router` (the `router` package) has its methods on its prototype, 4's on itself. */
function routerMethodsOf(Router: unknown): RouterMethods | undefined {
  if (typeof Router !== 'function') return undefined;
  const prototype = (Router as { prototype?: RouterMethods }).prototype;
  return typeof prototype?.route === 'function' ? prototype : (Router as RouterMethods);
}

/** What `use()` was given as its path (`/` when it was given only functions), as Express reads it. */
function mountPathArgument(args: readonly unknown[]): { path: unknown; offset: number } {
  let first = args[0];
  while (Array.isArray(first) && first.length !== 0) first = first[0] as unknown;
  return typeof first === 'function' ? { path: '/', offset: 0 } : { path: args[0], offset: 1 };
}

/**
 * After `router.use(...)`: the layers it added get its path; if one mounts a router, templates
 * are worked out anew (plain middleware changes none, so a router made per request costs none).
 */
function noteMounts(router: StackOwner, before: number, args: readonly unknown[]): void {
  const stack = router?.stack;
  if (!Array.isArray(stack)) return;
  const { path } = mountPathArgument(args);
  let mountsRouter = false;
  for (let i = before; i < stack.length; i++) {
    const layer = stack[i] as { handle?: { stack?: unknown } } | null;
    if (typeof layer !== 'object' || layer === null) continue;
    noteMountPath(layer, path);
    if (Array.isArray(layer.handle?.stack)) mountsRouter = true;
  }
  if (mountsRouter) expressRoutesChanged();
}

/**
 * After `app.use(...)`: each app among the handlers is mounted by the layer made for it (one
 * per handler, the last ones of the app's router), which wraps it in a function of Express's.
 */
function noteMountedApps(app: unknown, args: readonly unknown[]): void {
  const handlers = args.slice(mountPathArgument(args).offset).flat(Infinity);
  if (!handlers.some(isExpressApp)) return;
  const stack = isExpressApp(app) ? expressAppRouter(app)?.stack : undefined;
  if (!stack) return;
  const first = stack.length - handlers.length;
  handlers.forEach((handler, i) => {
    const layer = stack[first + i];
    if (isExpressApp(handler) && layer) noteMountedApp(layer, handler);
  });
  expressRoutesChanged();
}

type Finalhandler = (this: unknown, req: unknown, res: unknown, options?: unknown) => unknown;

/**
 * `finalhandler(req, res, options)` returns what Express calls when nothing in the app
 * answered: with an error nobody handled, or none (its 404). The one returned here keeps that
 * error on the request first. (Its `onerror` option comes too late: it runs on a later turn,
 * after the response has ended.)
 */
function observedFinalhandler(moduleExports: unknown, isEnabled: () => boolean): unknown {
  if (typeof moduleExports !== 'function') return moduleExports;
  const original = moduleExports as Finalhandler;
  return function finalhandler(this: unknown, req: unknown, res: unknown, options?: unknown): unknown {
    const done = original.call(this, req, res, options);
    if (typeof done !== 'function' || !isEnabled()) return done;
    return function (this: unknown, err?: unknown): unknown {
      if (err) safeExecute('express error', () => noteExpressError(req, err), undefined);
      return (done as Method).call(this, err);
    };
  };
}

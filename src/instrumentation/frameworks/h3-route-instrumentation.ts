import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';
import { VERSION } from '../../version.js';
import { isPromise } from './is-promise.js';
import { exportedPrototype, guardedPatch, unwrapMethods } from './module-exports.js';
import { preflightMethod } from './preflight-method.js';
import { reportRoute } from './report-route.js';
import { reportAndRethrow, reportThrownError } from './report-thrown-error.js';

/** The parts of an h3 event the hook reads (structural: h3 is the app's). */
interface H3EventLike {
  req?: { method?: unknown; headers?: { get?(name: string): unknown } };
  url?: unknown;
  context?: { matchedRoute?: { route?: unknown } };
}

/** An h3 app: the route lookup its `handler` uses. */
interface H3AppLike {
  '~findRoute'?(event: { req: { method: string }; url: unknown }): { data?: { route?: unknown } } | undefined;
}

interface H3CorePrototype {
  handler(this: H3AppLike, event: H3EventLike): unknown;
}

/**
 * h3 2: route templates and thrown errors, without spans. `H3Core.prototype.handler` (each
 * app binds it when created, and runs it for every request after `onRequest`) is wrapped: h3
 * finds the route first and keeps it as `event.context.matchedRoute`, whose `route` (prefixes
 * of mounted apps included) becomes the request's template, whichever middleware answers; what
 * the middleware or handler throws is noted before h3 turns it into a response. A CORS
 * preflight with no route of its own (answered by `handleCors` in middleware) gets the
 * template of the route it asks about, from the app's own lookup. h3's `tracingChannel`
 * plugin is not used: the app would have to register it.
 */
export class H3RouteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/h3-routes', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'h3',
        ['>=2.0.0 <3'],
        guardedPatch('h3 patch', (moduleExports) => this.#patch(moduleExports)),
        (moduleExports: unknown) =>
          unwrapMethods(exportedPrototype(moduleExports, 'H3Core'), ['handler'], this._unwrap),
      ),
    ];
  }

  #patch(moduleExports: unknown): void {
    const proto = exportedPrototype(moduleExports, 'H3Core') as H3CorePrototype | undefined;
    if (typeof proto?.handler !== 'function') return;
    const isEnabled = (): boolean => this.isEnabled();
    this._wrap(
      proto,
      'handler',
      (original) =>
        function handler(this: H3AppLike, event: H3EventLike): unknown {
          if (!isEnabled()) return original.call(this, event);
          let result: unknown;
          try {
            result = original.call(this, event);
          } catch (error) {
            safeExecute('h3 route', () => reportH3Route(this, event), undefined);
            safeExecute('h3 error', () => reportThrownError(error), undefined);
            throw error;
          }
          safeExecute('h3 route', () => reportH3Route(this, event), undefined);
          return isPromise(result) ? result.then(undefined, reportAndRethrow) : result;
        },
    );
  }
}

function reportH3Route(app: H3AppLike, event: H3EventLike): void {
  const matched = event.context?.matchedRoute?.route;
  if (typeof matched === 'string') return reportRoute(matched);
  const request = event.req;
  const asked = preflightMethod(request?.method, request?.headers?.get?.('access-control-request-method'));
  if (asked === undefined || typeof app['~findRoute'] !== 'function') return;
  reportRoute(app['~findRoute']({ req: { method: asked }, url: event.url })?.data?.route);
}

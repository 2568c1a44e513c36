import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';
import { VERSION } from '../../version.js';
import { exportObjects, guardedPatch, unwrapMethods } from './module-exports.js';
import { preflightMethod } from './preflight-method.js';
import { reportRoute } from './report-route.js';
import { reportThrownError } from './report-thrown-error.js';

/** Marks a server that already has the extension. */
const OBSERVED = Symbol('otel-pg-analytics.hapi-observed');
/** The method of hapi's own routes: 404, 400 and its CORS preflight answer. */
const SPECIAL_METHOD = '_special';
/** What makes a server: `Hapi.server()` and `new Hapi.Server()`. */
const SERVER_FACTORIES = ['server', 'Server'];

/** The parts of a hapi request the extension reads (structural: hapi is the app's). */
interface HapiRequestLike {
  method?: unknown;
  path?: unknown;
  headers?: Record<string, unknown>;
  route?: { method?: unknown; path?: unknown };
  response?: { isBoom?: unknown; message?: unknown } | null;
  server?: { match?(method: string, path: string): { path?: unknown } | null };
}

interface HapiToolkitLike {
  continue: symbol;
}

interface HapiServerLike {
  ext?(event: 'onPreResponse', method: (request: HapiRequestLike, h: HapiToolkitLike) => symbol): unknown;
  [OBSERVED]?: true;
}

type ServerFactory = (this: unknown, ...args: unknown[]) => unknown;

/**
 * hapi 17 to 21: route templates (`/users/{id}`, plugin prefixes included) and errors, without
 * spans. Each server made by `Hapi.server()` / `new Hapi.Server()` gets, before the app adds
 * anything, an `onPreResponse` extension that reads what hapi decided for the request:
 * `request.route.path` becomes the request's template, and a Boom response (what a handler,
 * an extension or validation threw, wrapped by hapi) gives the error message, before the app's
 * own `onPreResponse` extensions can turn it into a friendly reply. hapi's own 404 is no route
 * and no error; a preflight it answers itself (`routes.cors`) gets the template of the route it
 * asks about (`server.match`). The extension always returns `h.continue`.
 *
 * Used instead of `@opentelemetry/instrumentation-hapi`, which reports a plugin route's path
 * without the plugin's `routes.prefix` (`/items/{slug}` for `/api/v1/items/{slug}`) and makes
 * a span per handler and extension.
 */
export class HapiRouteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/hapi-routes', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        '@hapi/hapi',
        ['>=17.0.0 <22'],
        guardedPatch('hapi patch', (moduleExports) => this.#patch(moduleExports)),
        (moduleExports: unknown) => {
          for (const exports of exportObjects(moduleExports)) {
            unwrapMethods(exports, SERVER_FACTORIES, this._unwrap);
          }
        },
      ),
    ];
  }

  /** The CommonJS exports, or an ES module's named exports and its default (the same object). */
  #patch(moduleExports: unknown): void {
    const onPreResponse = (request: HapiRequestLike, h: HapiToolkitLike): symbol => {
      if (this.isEnabled()) safeExecute('hapi route', () => reportHapiRequest(request), undefined);
      return h.continue;
    };
    for (const exports of exportObjects(moduleExports)) {
      for (const name of SERVER_FACTORIES) {
        if (typeof exports[name] !== 'function') continue;
        this._wrap(exports, name, (original) => {
          const factory = original as ServerFactory;
          return function server(this: unknown, ...args: unknown[]): unknown {
            const created = factory.apply(this, args) as HapiServerLike;
            safeExecute('hapi server', () => observeServer(created, onPreResponse), undefined);
            return created;
          };
        });
      }
    }
  }
}

function observeServer(
  server: HapiServerLike | null | undefined,
  onPreResponse: (request: HapiRequestLike, h: HapiToolkitLike) => symbol,
): void {
  if (!server || server[OBSERVED] || typeof server.ext !== 'function') return;
  Object.defineProperty(server, OBSERVED, { value: true });
  server.ext('onPreResponse', onPreResponse);
}

function reportHapiRequest(request: HapiRequestLike): void {
  const route = request.route;
  if (route?.method !== SPECIAL_METHOD) {
    reportRoute(route?.path);
    const response = request.response;
    if (response?.isBoom === true) reportThrownError(response);
    return;
  }
  const asked = preflightMethod(request.method, request.headers?.['access-control-request-method']);
  if (asked === undefined || typeof request.path !== 'string') return;
  reportRoute(request.server?.match?.(asked, request.path)?.path);
}

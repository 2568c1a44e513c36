import { context, ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { H3RouteInstrumentation } from '../../src/instrumentation/frameworks/h3-route-instrumentation.js';
import { HapiRouteInstrumentation } from '../../src/instrumentation/frameworks/hapi-route-instrumentation.js';
import { HonoRouteInstrumentation } from '../../src/instrumentation/frameworks/hono-route-instrumentation.js';
import { KoaRouteInstrumentation } from '../../src/instrumentation/frameworks/koa-route-instrumentation.js';
import { requestStateIfAny } from '../../src/pipeline/request-state.js';

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(() => {
  context.disable();
});

const created: InstrumentationBase[] = [];

afterEach(() => {
  for (const instrumentation of created.splice(0)) instrumentation.disable();
});

/**
 * An enabled instrumentation's patch for `moduleName` (a package, or a file of one), applied to
 * a stand-in module.
 */
function patch<T>(instrumentation: InstrumentationBase, moduleName: string, moduleExports: T): T {
  created.push(instrumentation);
  const definitions = instrumentation.getModuleDefinitions();
  const target =
    definitions.find((d) => d.name === moduleName) ??
    definitions.flatMap((d) => d.files).find((f) => f.name === moduleName);
  return target!.patch!(moduleExports) as T;
}

const SMART_ROUTER_FILE = 'hono/dist/router/smart-router/router.js';

/** Runs `fn` as instrumentation-http runs a request's code: with its RPC metadata in context. */
function inRequest<T>(fn: () => T): {
  result: T;
  metadata: RPCMetadata;
  errorMessage: () => string | undefined;
} {
  const span = {} as Span;
  const metadata: RPCMetadata = { type: RPCType.HTTP, span };
  const result = context.with(setRPCMetadata(ROOT_CONTEXT, metadata), fn);
  return { result, metadata, errorMessage: () => requestStateIfAny(span)?.errorMessage };
}

/** An object every property read of which throws: a framework shape nobody expected. */
const hostile = new Proxy(
  {},
  {
    get() {
      throw new Error('unexpected shape');
    },
  },
);

describe('framework route hooks', () => {
  it('patch module shapes they do not know without throwing, leaving them as they were', () => {
    const instrumentations: [InstrumentationBase, string[]][] = [
      [new KoaRouteInstrumentation(), ['koa', '@koa/router']],
      [new HapiRouteInstrumentation(), ['@hapi/hapi']],
      [new HonoRouteInstrumentation(), [SMART_ROUTER_FILE, 'hono/dist/cjs/router/trie-router/router.js']],
      [new H3RouteInstrumentation(), ['h3']],
    ];
    for (const [instrumentation, names] of instrumentations) {
      for (const name of names) {
        for (const shape of [
          undefined,
          null,
          {},
          { default: 7 },
          function plain() {},
          class Empty {},
          hostile,
        ]) {
          expect(patch(instrumentation, name, shape)).toBe(shape);
        }
      }
    }
  });

  describe('Koa', () => {
    it('reports the route a router dispatch reached and what it rejected with, rejecting with the same error', async () => {
      const thrown = new Error('koa handler failed');
      const router = { name: 'the app’s router' };
      class Router {
        routes(): unknown {
          const dispatch = (ctx: Record<string, unknown>): Promise<never> => {
            ctx.matched = [{ path: '/users/:id', methods: ['HEAD', 'GET'] }];
            ctx._matchedRoute = '/users/:id';
            return Promise.reject(thrown);
          };
          return Object.assign(dispatch, { router });
        }
      }
      patch(new KoaRouteInstrumentation(), '@koa/router', Router);
      const dispatch = new Router().routes() as ((ctx: object, next: unknown) => Promise<unknown>) & {
        router: unknown;
      };
      expect(dispatch.router).toBe(router);
      const request = inRequest(() => dispatch({ method: 'GET' }, () => undefined));
      await expect(request.result).rejects.toBe(thrown);
      expect(request.metadata.route).toBe('/users/:id');
      expect(request.errorMessage()).toBe('koa handler failed');
    });

    it('leaves an app’s answer unchanged when its context and routers are not what it expects', async () => {
      class Koa {
        use(_middleware: unknown): this {
          return this;
        }
        handleRequest(ctx: unknown, fnMiddleware: (ctx: unknown) => unknown): unknown {
          return fnMiddleware(ctx);
        }
      }
      patch(new KoaRouteInstrumentation(), 'koa', Koa);
      const app = new Koa().use(Object.assign(() => undefined, { router: { match: () => hostile } }));
      const ctx = {
        method: 'OPTIONS',
        path: '/users/7',
        get: () => 'GET',
      };
      const request = inRequest(() => app.handleRequest(ctx, () => Promise.resolve('answered')));
      await expect(request.result).resolves.toBe('answered');
      expect(request.metadata.route).toBeUndefined();
      const odd = inRequest(() => app.handleRequest(hostile, () => 'sync answer'));
      expect(odd.result).toBe('sync answer');
    });
  });

  describe('Hono', () => {
    /** A router of a stand-in router class whose `add` the instrumentation observes. */
    function observedRouter(match: () => unknown) {
      const entries: unknown[][] = [];
      class SmartRouter {
        add(_method: string, _path: string, entry: unknown): void {
          entries.push(entry as unknown[]);
        }
        match(): unknown {
          return match();
        }
      }
      patch(new HonoRouteInstrumentation(), SMART_ROUTER_FILE, { SmartRouter });
      return { router: new SmartRouter(), entries };
    }

    /** `[handler, route]` as a Hono app adds it. */
    function entry(method: string, path: string, handler: (...args: never[]) => unknown): unknown[] {
      return [handler, { method, path, handler }];
    }

    it('runs a route’s handler as it was: its result, its thrown error, its rejection', async () => {
      const { router, entries } = observedRouter(() => [[]]);
      const sync = new Error('sync failure');
      const async = new Error('async failure');
      const added = [
        entry('GET', '/users/:id', (c: unknown) => ({ answered: c })),
        entry('GET', '/users/:id', () => {
          throw sync;
        }),
        entry('GET', '/users/:id', () => Promise.reject(async)),
      ];
      for (const e of added) router.add('GET', '/users/:id', e);
      const [answer, throwing, rejecting] = entries.map((e) => e[0] as (c: object, next: unknown) => unknown);
      expect(entries.map((e) => e[1])).toEqual(added.map((e) => e[1]));

      const ok = inRequest(() => answer!({ req: {} }, undefined));
      expect(ok.result).toEqual({ answered: { req: {} } });
      expect(ok.metadata.route).toBe('/users/:id');

      const thrown = inRequest(() => {
        try {
          return throwing!({}, undefined);
        } catch (error) {
          return error;
        }
      });
      expect(thrown.result).toBe(sync);
      expect(thrown.errorMessage()).toBe('sync failure');

      const rejected = inRequest(() => rejecting!({}, undefined));
      await expect(rejected.result).rejects.toBe(async);
      expect(rejected.errorMessage()).toBe('async failure');
    });

    it('leaves a middleware’s answer unchanged when the router or the context misbehave', async () => {
      const { router, entries } = observedRouter(() => {
        throw new Error('router broke');
      });
      router.add(
        'ALL',
        '*',
        entry('ALL', '*', () => Promise.resolve('from middleware')),
      );
      const middleware = entries[0]![0] as (c: object, next: unknown) => Promise<unknown>;
      const request = inRequest(() => middleware({ req: { method: 'GET', path: '/x' } }, undefined));
      await expect(request.result).resolves.toBe('from middleware');
      expect(request.metadata.route).toBeUndefined();
      await expect(inRequest(() => middleware(hostile, undefined)).result).resolves.toBe('from middleware');
    });

    it('passes on unchanged what no Hono app adds, and what another router observed already', () => {
      const { router, entries } = observedRouter(() => [[]]);
      const handler = (): string => 'answer';
      const notAnApps = [handler, { method: 'GET', path: '/x' }];
      router.add('GET', '/x', notAnApps);
      router.add('GET', '/x', 'a string');
      router.add('GET', '/x', entry('GET', '/x', handler));
      expect(entries[0]).toBe(notAnApps);
      expect(entries[1]).toBe('a string');
      const observed = entries[2]!;
      expect(observed[0]).not.toBe(handler);
      // A SmartRouter hands its entries on to the router it picks: they are not observed twice.
      router.add('GET', '/x', observed);
      expect(entries[3]).toBe(observed);
    });
  });

  describe('h3', () => {
    it('returns what the app’s handler returns when the event and the route lookup are not what it expects', () => {
      class H3Core {
        handler(event: unknown): unknown {
          return { handled: event !== undefined };
        }
        '~findRoute'(): never {
          throw new Error('lookup broke');
        }
      }
      patch(new H3RouteInstrumentation(), 'h3', { H3Core });
      const app = new H3Core();
      const preflight = {
        req: { method: 'OPTIONS', headers: { get: () => 'GET' } },
        url: new URL('http://x/users/7'),
        context: {},
      };
      const request = inRequest(() => app.handler(preflight));
      expect(request.result).toEqual({ handled: true });
      expect(request.metadata.route).toBeUndefined();
      expect(inRequest(() => app.handler(hostile)).result).toEqual({ handled: true });
      const routed = inRequest(() => app.handler({ context: { matchedRoute: { route: '/users/:id' } } }));
      expect(routed.metadata.route).toBe('/users/:id');
    });
  });

  describe('hapi', () => {
    it('returns the server whatever its ext does, and its extension always continues', () => {
      const extensions: ((request: unknown, h: { continue: symbol }) => symbol)[] = [];
      const server = {
        ext(_event: string, method: (request: unknown, h: { continue: symbol }) => symbol) {
          extensions.push(method);
        },
      };
      const throwing = {
        ext() {
          throw new Error('ext refused');
        },
      };
      const hapi = patch(new HapiRouteInstrumentation(), '@hapi/hapi', {
        server: (options: { which: string }) => (options.which === 'throwing' ? throwing : server),
        Server: () => throwing,
      });
      expect(hapi.server({ which: 'throwing' })).toBe(throwing);
      expect(hapi.server({ which: 'server' })).toBe(server);
      expect(extensions).toHaveLength(1);
      const h = { continue: Symbol('continue') };
      const onPreResponse = extensions[0]!;
      expect(inRequest(() => onPreResponse(hostile, h)).result).toBe(h.continue);
      const routed = inRequest(() =>
        onPreResponse(
          { route: { method: 'get', path: '/users/{id}' }, response: { isBoom: true, message: 'not yours' } },
          h,
        ),
      );
      expect(routed.result).toBe(h.continue);
      expect(routed.metadata.route).toBe('/users/{id}');
      expect(routed.errorMessage()).toBe('not yours');
    });
  });
});

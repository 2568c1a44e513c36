import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import { isWrapped } from '@opentelemetry/instrumentation';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpressRouteInstrumentation } from '../../src/instrumentation/frameworks/express-route-instrumentation.js';
import { reportUnrouted } from '../../src/instrumentation/frameworks/report-route.js';
import { createHttpInstrumentationConfig } from '../../src/instrumentation/http-instrumentation-config.js';
import { requestStateIfAny } from '../../src/pipeline/request-state.js';

// Enabled before Express is required, as the register entry does: its require hooks patch
// Express (and the finalhandler Express requires) as they load.
const instrumentation = new ExpressRouteInstrumentation();
const require = createRequire(import.meta.url);
const VERSIONS = [
  { name: 'Express 5', express: require('express') as Express, major: 5 },
  {
    name: 'Express 4',
    express: require('../compat/stacks/express4/node_modules/express') as Express,
    major: 4,
  },
];

type Handler = (req: Req, res: Res, next: (error?: unknown) => void) => unknown;
type Req = IncomingMessage & { params: Record<string, string>; path: string };
type Res = ServerResponse & {
  json(body: unknown): void;
  send(body: unknown): void;
  status(code: number): Res;
};
interface Routes {
  use(...args: unknown[]): Routes;
  get(path: string | RegExp, ...handlers: Handler[]): Routes;
}
type App = Routes & ((req: IncomingMessage, res: ServerResponse) => void);
type Express = (() => App) & { Router(options?: object): Routes };

interface Outcome {
  status: number;
  route: unknown;
  name: string;
  error: string | undefined;
}

const hooks = createHttpInstrumentationConfig();
const tracer = new TracerProvider().getTracer('@opentelemetry/instrumentation-http');

/** Serves `app` as instrumentation-http would: a SERVER span and RPC metadata per request, the hook at 'close'. */
function serve(app: App): { server: Server; closed: () => Promise<ReadableSpan> } {
  let settle: (span: ReadableSpan) => void = () => {};
  const server = createServer((req, res) => {
    const span = tracer.startSpan(req.method ?? 'GET', { kind: SpanKind.SERVER });
    const ctx = setRPCMetadata(trace.setSpan(ROOT_CONTEXT, span), { type: RPCType.HTTP, span });
    res.once(
      'close',
      context.bind(ctx, () => {
        hooks.applyCustomAttributesOnSpan!(span, req, res);
        span.end();
        settle(span as unknown as ReadableSpan);
      }),
    );
    context.with(ctx, () => app(req, res));
  });
  return {
    server,
    closed: () => new Promise((resolve) => (settle = resolve)),
  };
}

/** The app of the suite, on `express`: nested and shared routers, a mounted app, errors. */
function buildApp(express: Express, major: number): App {
  const app = express();
  app.use((req: Req, res: Res, next: () => void) => (req.path === '/early' ? res.status(204).end() : next()));
  app.get('/', (_req, res) => res.json({ root: true }));

  const projects = express.Router({ mergeParams: true });
  projects.get('/projects/:projectId', (req, res) => res.json(req.params));
  projects.get('/projects/:projectId/fail', (req) => {
    throw new Error(`project ${req.params.projectId} failed`);
  });
  const v1 = express.Router().use('/orgs/:orgId', projects);
  app.use('/api/', express.Router().use('/v1', v1));
  app.use('/api', (error: Error, _req: Req, res: Res, _next: unknown) => res.status(500).json(error.message));

  const shared = express.Router().get('/items/:id', (req, res) => res.json(req.params));
  app.use('/a', shared);
  app.use('/b/:tenant', shared);

  const admin = express();
  admin.get('/users/:id', (req, res) => res.json(req.params));
  app.use('/admin', admin);

  app.get('/first', (_req, _res, next) => next());
  app.use('/first', (_req: Req, res: Res) => res.send('answered by a middleware after the route'));
  app.get('/pick/:name', (_req, _res, next) => next());
  app.get('/pick/special', (_req, res) => res.send('the later route'));
  app.get('/skip', (_req, _res, next) => next('route'));
  app.get('/skip', (_req, res) => res.send('the second handler'));
  app.get('/boom', () => {
    throw new Error('nobody handles this');
  });
  app.get('/string-error', (_req, _res, next) => next('a plain message'));
  app.get(/^\/nest-like\//, (_req, res) => {
    reportUnrouted();
    res.status(404).end();
  });
  app.get('/odd', (req, res) => {
    Object.defineProperty(req, 'app', {
      get() {
        throw new Error('an app that is not what it seems');
      },
    });
    res.send('still answered');
  });
  if (major >= 5) {
    app.get('/async', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('async handler failed');
    });
  }
  return app;
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(() => {
  instrumentation.disable();
  context.disable();
});

describe.each(VERSIONS)('$name', ({ express, major }) => {
  let app: App;
  let served: ReturnType<typeof serve>;
  let base: string;

  beforeAll(async () => {
    app = buildApp(express, major);
    served = serve(app);
    await new Promise<void>((resolve) => served.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => served?.server.close(resolve));
  });

  async function get(path: string): Promise<Outcome> {
    const closed = served.closed();
    const response = await fetch(`${base}${path}`);
    await response.arrayBuffer();
    const span = await closed;
    return {
      status: response.status,
      route: span.attributes[ATTR_HTTP_ROUTE],
      name: span.name,
      error: requestStateIfAny(span)?.errorMessage,
    };
  }

  it('is patched as it loads', () => {
    // Express 4's Router keeps its methods on itself, 5's (the `router` package) on its prototype.
    const { Router } = express as unknown as { Router: { use: unknown; prototype: { use: unknown } } };
    expect(isWrapped(major === 5 ? Router.prototype.use : Router.use)).toBe(true);
    expect(isWrapped((express as unknown as { application: { use: unknown } }).application.use)).toBe(true);
  });

  it('gives a route under nested routers its full template, mount paths as written', async () => {
    expect(await get('/api/v1/orgs/17/projects/99?expand=1')).toEqual({
      status: 200,
      route: '/api/v1/orgs/:orgId/projects/:projectId',
      name: 'GET /api/v1/orgs/:orgId/projects/:projectId',
      error: undefined,
    });
    expect(await get('/?page=2')).toMatchObject({ route: '/', error: undefined });
    expect(await get('/a/items/1/')).toMatchObject({ status: 200, route: '/a/items/:id' });
  });

  it('keeps the template and the message of an error the app’s error middleware answers', async () => {
    expect(await get('/api/v1/orgs/17/projects/7/fail')).toEqual({
      status: 500,
      route: '/api/v1/orgs/:orgId/projects/:projectId/fail',
      name: 'GET /api/v1/orgs/:orgId/projects/:projectId/fail',
      error: 'project 7 failed',
    });
  });

  it('keeps the message of an error nobody handles, and of next() given a string', async () => {
    expect(await get('/boom')).toMatchObject({ status: 500, route: '/boom', error: 'nobody handles this' });
    expect(await get('/string-error')).toMatchObject({ status: 500, error: 'a plain message' });
  });

  it('tells apart the ways to a router mounted twice, and finds routers mounted later', async () => {
    expect(await get('/a/items/1')).toMatchObject({ route: '/a/items/:id' });
    expect(await get('/b/acme/items/2')).toMatchObject({ route: '/b/:tenant/items/:id' });
    const late = express.Router().get('/things/:id', (req, res) => res.json(req.params));
    app.use('/late', late);
    expect(await get('/late/things/3')).toMatchObject({ route: '/late/things/:id' });
    expect(await get('/a/items/1')).toMatchObject({ route: '/a/items/:id' });
  });

  it('places a route of a mounted app under its mount path', async () => {
    expect(await get('/admin/users/5')).toMatchObject({ status: 200, route: '/admin/users/:id' });
  });

  it('keeps the last route reached, and no route for requests no route reached', async () => {
    expect(await get('/first')).toMatchObject({ status: 200, route: '/first', error: undefined });
    expect(await get('/pick/special')).toMatchObject({ status: 200, route: '/pick/special' });
    expect(await get('/skip')).toMatchObject({ status: 200, route: '/skip', error: undefined });
    expect(await get('/early')).toMatchObject({ status: 204, route: undefined, error: undefined });
    expect(await get('/api/v1/nope/12')).toMatchObject({ status: 404, route: undefined, error: undefined });
  });

  it('leaves a request a framework said has no route without one', async () => {
    expect(await get('/nest-like/anything')).toMatchObject({ status: 404, route: undefined });
  });

  it('answers as the app means when the request is not what it expects', async () => {
    expect(await get('/odd')).toMatchObject({ status: 200, route: undefined });
  });

  // Express 4 does not catch a rejected handler at all (the request hangs): no case to test.
  if (major >= 5) {
    it('keeps the message an async handler rejects with', async () => {
      expect(await get('/async')).toMatchObject({
        status: 500,
        route: '/async',
        error: 'async handler failed',
      });
    });
  }
});

describe('ExpressRouteInstrumentation', () => {
  it('leaves module shapes it does not know as they were', () => {
    const definitions = instrumentation.getModuleDefinitions();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('unexpected shape');
        },
      },
    );
    for (const definition of definitions) {
      for (const shape of [undefined, null, {}, { Router: 7 }, { default: 7 }, hostile]) {
        expect(definition.patch!(shape)).toBe(shape);
      }
    }
  });
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { context, ROOT_CONTEXT, SpanKind, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpressRouteInstrumentation } from '../../src/instrumentation/frameworks/express-route-instrumentation.js';
import { reportRoute, reportUnrouted } from '../../src/instrumentation/frameworks/report-route.js';
import { createHttpInstrumentationConfig } from '../../src/instrumentation/http-instrumentation-config.js';

// Enabled before Express is required, as the register entry does.
const instrumentation = new ExpressRouteInstrumentation();
const require = createRequire(import.meta.url);
const VERSIONS = [
  { name: 'Express 5', express: require('express') as Express },
  { name: 'Express 4', express: require('../compat/stacks/express4/node_modules/express') as Express },
];

type Handler = (req: IncomingMessage, res: Res) => unknown;
type Res = ServerResponse & { json(body: unknown): void; status(code: number): Res };
interface Routes {
  use(...args: unknown[]): Routes;
  get(path: string, handler: Handler): Routes;
}
type App = Routes & ((req: IncomingMessage, res: ServerResponse) => void);
type Express = (() => App) & { Router(): Routes };

const hooks = createHttpInstrumentationConfig();
const tracer = new TracerProvider().getTracer('@opentelemetry/instrumentation-http');

/** The RPC metadata of another request, in flight while the app answers. */
const other: RPCMetadata = { type: RPCType.HTTP, span: tracer.startSpan('GET', { kind: SpanKind.SERVER }) };
const otherContext: Context = setRPCMetadata(ROOT_CONTEXT, other);

/**
 * Serves `app` as instrumentation-http does, up to the point this is about: a SERVER span and
 * RPC metadata per request, its response hook, and at 'close' (bound to the request's context)
 * the route its metric and span name take from the metadata, read before any hook of ours.
 */
function serve(app: App): { server: Server; closed: () => Promise<unknown> } {
  let settle: (route: unknown) => void = () => {};
  const server = createServer((req, res) => {
    const span = tracer.startSpan(req.method ?? 'GET', { kind: SpanKind.SERVER });
    const metadata: RPCMetadata = { type: RPCType.HTTP, span };
    const ctx = setRPCMetadata(trace.setSpan(ROOT_CONTEXT, span), metadata);
    context.with(ctx, () => {
      context.bind(ctx, res);
      hooks.responseHook!(span, res);
      res.on('close', () => settle(metadata.route));
      app(req, res);
    });
  });
  return { server, closed: () => new Promise((resolve) => (settle = resolve)) };
}

function buildApp(express: Express): App {
  const api = express.Router();
  api.get('/items/:id', (_req, res) => res.json({ ok: true }));
  api.get('/later/:id', async (_req, res) => {
    await new Promise((resolve) => setImmediate(resolve));
    res.json({ ok: true });
  });
  api.get('/elsewhere/:id', (_req, res) => context.with(otherContext, () => res.json({ ok: true })));
  api.get('/reported/:id', (_req, res) => {
    reportRoute('/as/a/framework/said');
    res.json({ ok: true });
  });
  api.get('/unrouted/:id', (_req, res) => {
    reportUnrouted();
    res.status(404).json({ ok: false });
  });
  api.get('/odd/:id', (req, res) => {
    Object.defineProperty(req, 'app', {
      get() {
        throw new Error('an app that is not what it seems');
      },
    });
    res.json({ ok: true });
  });
  const app = express();
  app.use('/api', api);
  return app;
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(() => {
  instrumentation.disable();
  context.disable();
});

describe.each(VERSIONS)('reportExpressRoute on $name', ({ express }) => {
  let served: ReturnType<typeof serve>;
  let base: string;

  beforeAll(async () => {
    served = serve(buildApp(express));
    await new Promise<void>((resolve) => served.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => served?.server.close(resolve));
  });

  /** The RPC metadata's route when the response closed, and the status the client got. */
  async function get(path: string): Promise<{ route: unknown; status: number }> {
    const closed = served.closed();
    const response = await fetch(`${base}${path}`);
    await response.arrayBuffer();
    return { route: await closed, status: response.status };
  }

  it("gives the request's RPC metadata its route template as the response finishes", async () => {
    expect(await get('/api/items/42')).toEqual({ route: '/api/items/:id', status: 200 });
    expect(await get('/api/later/7')).toEqual({ route: '/api/later/:id', status: 200 });
  });

  it('leaves the metadata of the request whose context a response ended in alone', async () => {
    expect(await get('/api/elsewhere/1')).toEqual({ route: undefined, status: 200 });
    expect(other.route).toBeUndefined();
  });

  it('keeps a route a framework reported, and none where it said there is none', async () => {
    expect(await get('/api/reported/1')).toEqual({ route: '/as/a/framework/said', status: 200 });
    expect(await get('/api/unrouted/1')).toEqual({ route: undefined, status: 404 });
  });

  it('reports nothing for a request no route matched', async () => {
    expect(await get('/api/nope')).toEqual({ route: undefined, status: 404 });
  });

  it('throws nothing into the app when the request cannot be read', async () => {
    expect(await get('/api/odd/1')).toEqual({ route: undefined, status: 200 });
  });
});

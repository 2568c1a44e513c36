import { createServer } from 'node:http';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import type { Span } from '@opentelemetry/api';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FastifyRouteInstrumentation } from '../../src/instrumentation/frameworks/fastify-route-instrumentation.js';
import {
  FastifyRouteTable,
  fillTemplate,
  type FastifyRouteFinder,
} from '../../src/instrumentation/frameworks/fastify-route-table.js';
import { safeDecodeURIComponent } from '../../src/privacy/safe-decode-uri-component.js';
import { requestStateIfAny } from '../../src/pipeline/request-state.js';

const PREFLIGHT = { origin: 'https://app.example', 'access-control-request-method': 'GET' };

let instrumentation: FastifyRouteInstrumentation;
let app: FastifyInstance | undefined;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(() => {
  context.disable();
});

afterEach(async () => {
  instrumentation?.disable();
  await app?.close();
  app = undefined;
});

/** The RPC metadata of the last request served, as instrumentation-http would store it. */
let lastMetadata: RPCMetadata | undefined;

/**
 * An app created while the instrumentation is enabled, with a catch-all OPTIONS route, served
 * the way instrumentation-http serves it: each request handled inside a context that carries
 * its RPC metadata.
 */
async function createApp(): Promise<FastifyInstance> {
  app = Fastify({
    serverFactory: (handler) =>
      createServer((request, response) => {
        lastMetadata = { type: RPCType.HTTP, span: {} as Span };
        context.with(setRPCMetadata(ROOT_CONTEXT, lastMetadata), () => handler(request, response));
      }),
  });
  app.get('/users/:id', async () => 'ok');
  app.get('/boom', async () => {
    throw new Error('ledger write failed');
  });
  await app.register(
    async (org) => {
      org.get('/projects/:projectId(^\\d+)', async () => 'ok');
      org.get('/files/*', async () => 'ok');
    },
    { prefix: '/orgs/:orgId' },
  );
  app.options('*', async (_request, reply) => reply.code(204).send());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** Sends one request and returns its status and RPC metadata. */
async function send(
  fastify: FastifyInstance,
  method: 'GET' | 'OPTIONS',
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; metadata: RPCMetadata }> {
  const address = fastify.server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${address.port}${url}`, { method, headers });
  await response.arrayBuffer();
  return { status: response.status, metadata: lastMetadata! };
}

describe('FastifyRouteInstrumentation', () => {
  it('writes the matched route template, prefixes included, into the request’s RPC metadata', async () => {
    instrumentation = new FastifyRouteInstrumentation();
    const fastify = await createApp();
    expect((await send(fastify, 'GET', '/users/42?x=1')).metadata.route).toBe('/users/:id');
    expect((await send(fastify, 'GET', '/orgs/7/projects/99')).metadata.route).toBe(
      '/orgs/:orgId/projects/:projectId(^\\d+)',
    );
    const notFound = await send(fastify, 'GET', '/nope');
    expect(notFound).toEqual({
      status: 404,
      metadata: expect.not.objectContaining({ route: expect.anything() }),
    });
  });

  it('gives a preflight answered by a catch-all OPTIONS route the template it asks about', async () => {
    instrumentation = new FastifyRouteInstrumentation();
    const fastify = await createApp();
    expect((await send(fastify, 'OPTIONS', '/orgs/7/files/a/b.txt', PREFLIGHT)).metadata.route).toBe(
      '/orgs/:orgId/files/*',
    );
    // The regex says no: no template, rather than a wrong one.
    expect(
      (await send(fastify, 'OPTIONS', '/orgs/7/projects/abc', PREFLIGHT)).metadata.route,
    ).toBeUndefined();
    // Not a preflight: the catch-all is the route.
    expect((await send(fastify, 'OPTIONS', '/users/42')).metadata.route).toBe('*');
  });

  it('notes what a handler threw on the request', async () => {
    instrumentation = new FastifyRouteInstrumentation();
    const fastify = await createApp();
    const { status, metadata } = await send(fastify, 'GET', '/boom');
    expect(status).toBe(500);
    expect(requestStateIfAny(metadata.span)?.errorMessage).toBe('ledger write failed');
  });

  it('keeps answering when a route lookup throws', async () => {
    instrumentation = new FastifyRouteInstrumentation();
    const fastify = await createApp();
    fastify.findRoute = () => {
      throw new Error('lookup broke');
    };
    const { status, metadata } = await send(fastify, 'OPTIONS', '/users/42', PREFLIGHT);
    expect(status).toBe(204);
    expect(metadata.route).toBeUndefined();
  });

  it('does nothing once disabled, nor to instances created while disabled', async () => {
    instrumentation = new FastifyRouteInstrumentation();
    const hooked = await createApp();
    instrumentation.disable();
    expect((await send(hooked, 'GET', '/users/42')).metadata.route).toBeUndefined();
    await hooked.close();
    const plain = await createApp();
    instrumentation.enable();
    expect((await send(plain, 'GET', '/users/42')).metadata.route).toBeUndefined();
  });

  it('is created disabled when told, for NodeSDK to enable', () => {
    instrumentation = new FastifyRouteInstrumentation({ enabled: false });
    expect(instrumentation.getConfig()).toEqual({ enabled: false });
  });
});

describe('fillTemplate', () => {
  it.each([
    ['/users/:id', { id: '42' }, '/users/42'],
    ['/files/*', { '*': 'a/b.txt' }, '/files/a/b.txt'],
    ['/range/:from-:to', { from: '1', to: '9' }, '/range/1-9'],
    ['/img/:name.png', { name: 'logo' }, '/img/logo.png'],
    ['/n/:id(^\\d+)/x', { id: '7' }, '/n/7/x'],
    ['/n/:id(^(a|b)\\)?)/x', { id: 'a' }, '/n/a/x'],
    ['/time::now/:id', { id: '3' }, '/time:now/3'],
  ])('%s with %o is %s', (template, params, expected) => {
    expect(fillTemplate(template, params)).toBe(expected);
  });

  it('gives nothing when a parameter of the template was not matched', () => {
    expect(fillTemplate('/users/:id', { name: 'ada' })).toBeUndefined();
    expect(fillTemplate('/files/*', {})).toBeUndefined();
  });
});

/**
 * The lookup as it was before the table had an index: every template of the method, in the
 * order added, filled with the parameters Fastify found.
 */
function templateOfByScan(
  templates: readonly string[],
  fastify: FastifyRouteFinder,
  method: string,
  url: string,
): string | undefined {
  const found = fastify.findRoute?.({ method, url });
  if (!found) return undefined;
  const end = url.search(/[?#]/);
  const path = safeDecodeURIComponent(end === -1 ? url : url.slice(0, end));
  return templates.find((template) => {
    const filled = fillTemplate(template, found.params ?? {});
    return filled !== undefined && (filled === path || filled.replace(/\/$/, '') === path.replace(/\/$/, ''));
  });
}

describe('FastifyRouteTable', () => {
  /** A Fastify app with `routes` (GET), and the table its onRoute hook fills, as the instrumentation's does. */
  async function tableOf(
    routes: readonly string[],
    options: { ignoreTrailingSlash?: boolean } = {},
  ): Promise<{ fastify: FastifyInstance; table: FastifyRouteTable; templates: string[] }> {
    const fastify = Fastify({ routerOptions: { ignoreTrailingSlash: options.ignoreTrailingSlash ?? false } });
    const table = new FastifyRouteTable();
    const templates: string[] = [];
    fastify.addHook('onRoute', (route) => {
      table.add(route.method, route.url);
      if (!templates.includes(route.url)) templates.push(route.url);
    });
    for (const route of routes) fastify.get(route, async () => 'ok');
    await fastify.register(
      async (scoped) => {
        scoped.get('/items/:itemId', async () => 'ok');
        scoped.get('/', async () => 'ok');
      },
      { prefix: '/shops/:shopId' },
    );
    await fastify.ready();
    app = fastify;
    return { fastify, table, templates };
  }

  const ROUTES = [
    '/',
    '/users/me',
    '/users/:id',
    '/users/:id/posts/:postId',
    '/api/v1/orders/:orderId',
    '/api/v1/orders/:orderId/items/*',
    '/api/v1/:resource',
    '/api/v1/:resource/:id',
    '/:tenant/dashboard',
    '/files/*',
    '/range/:from-:to',
    '/img/:name.png',
    '/n/:id(^\\d+)/x',
    '/time::now/:id',
    // Both fill to /a/a with { x: 'a' } (and /b/b with { y: 'b' }): the one added first is the answer.
    '/:x/a',
    '/a/:x',
    '/b/:y',
    '/:y/b',
    '/trailing/',
    '//double/:id',
  ];

  const PATHS = [
    '/',
    '/users/me',
    '/users/42?tab=posts',
    '/users/42/',
    '/users/a%2Fb',
    '/users/42/posts/7',
    '/api/v1/orders/9',
    '/api/v1/orders/9/items/x/y.txt',
    '/api/v1/widgets',
    '/api/v1/widgets/3',
    '/acme/dashboard',
    '/files/a/b/c',
    '/range/1-9',
    '/img/logo.png',
    '/n/7/x',
    '/n/abc/x',
    '/time:now/3',
    '/a/a',
    '/b/a',
    '/a/b',
    '/b/b',
    '/trailing/',
    '/trailing',
    '//double/5',
    '/shops/3/items/4',
    '/shops/3',
    '/shops/3/',
    '/nope/nothing/here',
    '*',
  ];

  it.each([false, true])(
    'answers every path as a scan of all templates does (ignoreTrailingSlash %s)',
    async (ignoreTrailingSlash) => {
      const { fastify, table, templates } = await tableOf(ROUTES, { ignoreTrailingSlash });
      const answers = PATHS.map((path) => [path, table.templateOf(fastify, 'GET', path)]);
      expect(answers).toEqual(PATHS.map((path) => [path, templateOfByScan(templates, fastify, 'GET', path)]));
      // The cases above mean something: most paths have a template, the ambiguous one the first added.
      expect(answers.filter(([, template]) => template !== undefined).length).toBeGreaterThan(20);
      expect(table.templateOf(fastify, 'GET', '/a/a')).toBe('/:x/a');
      expect(table.templateOf(fastify, 'GET', '/b/b')).toBe('/b/:y');
    },
  );

  it('answers as a scan does among thousands of templates', async () => {
    const routes = Array.from({ length: 500 }, (_, i) => [
      `/api/v1/r${i}/:id`,
      `/api/v1/r${i}/:id/sub/:subId`,
      `/t${i}/*`,
      `/:x${i}/k${i}`,
    ]).flat();
    const { fastify, table, templates } = await tableOf(routes);
    const paths = Array.from({ length: 500 }, (_, i) => [
      `/api/v1/r${i}/7`,
      `/api/v1/r${i}/7/sub/8`,
      `/api/v1/r${i}/7/other`,
      `/t${i}/deep/file.txt`,
      `/anything/k${i}`,
    ]).flat();
    const answers = paths.map((path) => table.templateOf(fastify, 'GET', path));
    expect(answers).toEqual(paths.map((path) => templateOfByScan(templates, fastify, 'GET', path)));
    expect(answers.filter((template) => template === undefined)).toHaveLength(500);
  });

  it('has no template for a method it has no routes of, nor without findRoute', async () => {
    const { fastify, table } = await tableOf(ROUTES);
    expect(table.templateOf(fastify, 'DELETE', '/users/42')).toBeUndefined();
    expect(table.templateOf({}, 'GET', '/users/42')).toBeUndefined();
  });
});

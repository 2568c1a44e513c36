import { createServer } from 'node:http';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import type { Span } from '@opentelemetry/api';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FastifyRouteInstrumentation } from '../../src/instrumentation/frameworks/fastify-route-instrumentation.js';
import { fillTemplate } from '../../src/instrumentation/frameworks/fastify-route-table.js';
import { requestStateIfAny } from '../../src/internal/request-state.js';

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

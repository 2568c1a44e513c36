import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { context, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import type { Instrumentation, InstrumentationConfig } from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';
import { VERSION } from '../../version.js';
import { FastifyRouteTable, type FastifyRouteFinder } from './fastify-route-table.js';
import { reportThrownError } from './report-thrown-error.js';

/** Published by `fastify()` (4.x and 5.x) with the new instance, before any plugin or route. */
const INITIALIZATION = 'fastify.initialization';

type Done = (error?: Error) => void;

/** The parts of a Fastify request the hooks read (structural: Fastify is the app's). */
interface FastifyRequestLike {
  method: string;
  url: string;
  is404?: boolean;
  headers: Record<string, string | string[] | undefined>;
  /** Fastify 4.10 and later; 5. */
  routeOptions?: { url?: string };
  /** Older Fastify 4 (deprecated later, so read only without `routeOptions`). */
  routerPath?: string;
}

/** The parts of a Fastify instance the hooks use. */
interface FastifyLike extends FastifyRouteFinder {
  addHook(name: 'onRoute', hook: (route: { method?: unknown; url?: unknown }) => void): unknown;
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: unknown, done: Done) => void,
  ): unknown;
  addHook(
    name: 'onError',
    hook: (request: FastifyRequestLike, reply: unknown, error: unknown, done: Done) => void,
  ): unknown;
}

/**
 * Fastify 4 and 5: each instance is given, when it is created (`fastify.initialization`), an
 * `onRequest` hook that writes the matched route's template (prefixes included) into the
 * request's RPC metadata, which instrumentation-http turns into `http.route`, and an `onError`
 * hook that notes what a handler or hook threw (before any error handler turns it into a
 * reply). A CORS preflight answered by a catch-all `OPTIONS *` route gets the template of the
 * route it asks about (`Access-Control-Request-Method`), or none; Fastify's own 404s get none.
 *
 * Hooks cannot be taken off an instance: disabled, they stay and do nothing, and instances
 * created while disabled get none. They create no spans.
 */
export class FastifyRouteInstrumentation implements Instrumentation {
  readonly instrumentationName = 'otel-pg-analytics/fastify-routes';
  readonly instrumentationVersion = VERSION;
  #config: InstrumentationConfig;
  #enabled = false;

  constructor(config: InstrumentationConfig = {}) {
    this.#config = { ...config };
    if (this.#config.enabled !== false) this.enable();
  }

  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    subscribe(INITIALIZATION, this.#onInitialization);
  }

  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    unsubscribe(INITIALIZATION, this.#onInitialization);
  }

  setConfig(config: InstrumentationConfig): void {
    this.#config = { ...config };
  }

  getConfig(): InstrumentationConfig {
    return this.#config;
  }

  setTracerProvider(_provider: TracerProvider): void {
    // No spans: the route and the error go on the request's own span.
  }

  setMeterProvider(_provider: MeterProvider): void {
    // No metrics.
  }

  readonly #onInitialization = (message: unknown): void => {
    safeExecute(
      'fastify hooks',
      () => {
        const fastify = (message as { fastify?: FastifyLike }).fastify;
        if (fastify && typeof fastify.addHook === 'function') this.#addHooks(fastify);
      },
      undefined,
    );
  };

  #addHooks(fastify: FastifyLike): void {
    const routes = new FastifyRouteTable();
    fastify.addHook('onRoute', (route) => {
      safeExecute('fastify onRoute', () => routes.add(route.method, route.url), undefined);
    });
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (this.#enabled) safeExecute('fastify route', () => noteRoute(fastify, routes, request), undefined);
      done();
    });
    fastify.addHook('onError', (_request, _reply, error, done) => {
      if (this.#enabled) safeExecute('fastify error', () => reportThrownError(error), undefined);
      done();
    });
  }
}

function noteRoute(fastify: FastifyLike, routes: FastifyRouteTable, request: FastifyRequestLike): void {
  const metadata = getRPCMetadata(context.active());
  if (!metadata || request.is404 === true) return;
  const options = request.routeOptions;
  const template = options ? options.url : request.routerPath;
  if (typeof template !== 'string') return;
  const asked = request.headers['access-control-request-method'];
  if (request.method === 'OPTIONS' && template.endsWith('*') && typeof asked === 'string') {
    metadata.route = routes.templateOf(fastify, asked, request.url);
    return;
  }
  metadata.route = template;
}

import type { IncomingMessage } from 'node:http';
import { context, type Span } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { createLogger, RateLimitedReporter } from '../../support/diag.js';
import { expressRouteOf, type ExpressRequestLike } from './express-route-templates.js';
import { isReportedUnrouted } from './report-route.js';
import { reportThrownError } from './report-thrown-error.js';

const reporter = new RateLimitedReporter(createLogger('hooks'));

/** The first error Express passed on while serving a request, kept on the request. */
const EXPRESS_ERROR = Symbol('otel-pg-analytics.express-error');

interface OutcomeRequest extends ExpressRequestLike {
  method?: unknown;
  [EXPRESS_ERROR]?: unknown;
}

/**
 * Keeps `error` on `request` as what went wrong with it, unless an earlier error is kept (the
 * first is the cause). Express's routing signals (`next('route')`, `next('router')`) and falsy
 * values are not errors. Called only where Express handles an error, so that a request without
 * one costs nothing; kept on the request rather than looked up by context, which a callback
 * that calls `next(err)` may have lost.
 */
export function noteExpressError(request: unknown, error: unknown): void {
  if (!error || error === 'route' || error === 'router') return;
  if (typeof request !== 'object' || request === null) return;
  const req = request as OutcomeRequest;
  if (req[EXPRESS_ERROR] === undefined) req[EXPRESS_ERROR] = error;
}

/**
 * At the end of a server response (instrumentation-http's `applyCustomAttributesOnSpan`, in
 * the request's context): the error Express noted becomes the request's error, and the
 * template of the route the request reached becomes the span's `http.route` (and its name),
 * unless a framework already reported a route or said there is none (Nest's own 404). As a
 * rule `reportExpressRoute` has reported it already, and instrumentation-http named the span;
 * this is for a response that finished in another context. A request no Express route
 * reached, with no error, costs two property reads.
 */
export function recordExpressOutcome(span: Span, request: IncomingMessage): void {
  // Called for every request: a try rather than `safeExecute`, which would take a closure.
  try {
    const req = request as OutcomeRequest;
    if (req.route === undefined && req[EXPRESS_ERROR] === undefined) return;
    recordOutcome(span, req);
  } catch (error) {
    reporter.error(
      'express outcome',
      'otel-pg-analytics: express outcome failed; the app is unaffected',
      error,
    );
  }
}

/**
 * As the response to `request` finishes (its `'finish'`, before instrumentation-http's
 * `'close'` listener reads the RPC metadata's `route` for its `http.route` metric attribute and
 * span name): the template of the Express route the request reached becomes that `route`,
 * under the rules of the span's (`recordExpressOutcome`). `span` is the response's server
 * span: the metadata of the active context is taken only if it is that span's. It is, as a rule,
 * since `'finish'` runs in the context `end()` was called in; a response ended in another
 * request's context (a callback a connection pool handed over, a pipelined request) leaves
 * that request's metadata alone, and gets its route on its span only, at the end. A request no
 * Express route reached costs one property read.
 */
export function reportExpressRoute(request: IncomingMessage | undefined, span: Span | undefined): void {
  const req = request as OutcomeRequest | undefined;
  if (req?.route !== undefined) setMetadataRoute(req, span);
}

function setMetadataRoute(req: OutcomeRequest, span: Span | undefined): void {
  try {
    const metadata = getRPCMetadata(context.active());
    if (metadata === undefined || metadata.span !== span) return;
    if (metadata.route !== undefined || isReportedUnrouted(metadata)) return;
    const template = expressRouteOf(req);
    if (template !== undefined) metadata.route = template;
  } catch (error) {
    reporter.error(
      'express route',
      'otel-pg-analytics: reporting an express route failed; the app is unaffected',
      error,
    );
  }
}

function recordOutcome(span: Span, req: OutcomeRequest): void {
  const error = req[EXPRESS_ERROR];
  // `next('message')` passes a string, which Express reports as it is.
  if (error !== undefined) reportThrownError(typeof error === 'string' ? { message: error } : error);
  if (req.route === undefined) return;
  const metadata = getRPCMetadata(context.active());
  if (metadata?.route !== undefined || isReportedUnrouted(metadata)) return;
  const template = expressRouteOf(req);
  if (template === undefined) return;
  span.setAttribute(ATTR_HTTP_ROUTE, template);
  span.updateName(`${typeof req.method === 'string' ? req.method : 'GET'} ${template}`);
}

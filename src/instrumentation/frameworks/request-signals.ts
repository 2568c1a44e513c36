import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { activeRedactor } from '../../internal/active-pipeline.js';
import { noteRequestError } from '../../internal/request-state.js';
import { safeExecute } from '../../internal/safe-execute.js';

/**
 * Makes `route` the template of the request being served (instrumentation-http turns the RPC
 * metadata's `route` into `http.route` when the response ends). Anything but a non-empty
 * string is ignored, and so is a call outside a request.
 */
export function reportRoute(route: unknown): void {
  if (typeof route !== 'string' || route.length === 0) return;
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/** Whether the request being served already has a route template. */
export function hasReportedRoute(): boolean {
  return getRPCMetadata(context.active())?.route !== undefined;
}

/**
 * Notes what a handler threw as the error of the request being served (the first one noted
 * wins). Only values with a non-empty string `message` count: Errors, Boom and HTTP errors.
 */
export function reportThrownError(error: unknown): void {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  if (typeof message === 'string' && message.length > 0) {
    noteRequestError(context.active(), message, activeRedactor());
  }
}

/**
 * For `promise.then(undefined, reportAndRethrow)`: notes the error, then rejects with it
 * unchanged, so the framework handles it exactly as before.
 */
export function reportAndRethrow(error: unknown): never {
  safeExecute('framework error', () => reportThrownError(error), undefined);
  throw error;
}

/** Whether `value` is a native promise (frameworks test for exactly that). */
export function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

/**
 * The method a CORS preflight asks about (`Access-Control-Request-Method`, upper-cased), or
 * `undefined` when the request is not a preflight.
 */
export function preflightMethod(method: unknown, requestedMethod: unknown): string | undefined {
  if (typeof method !== 'string' || method.toUpperCase() !== 'OPTIONS') return undefined;
  if (typeof requestedMethod !== 'string') return undefined;
  const asked = requestedMethod.trim().toUpperCase();
  return asked.length > 0 && asked.length <= 32 ? asked : undefined;
}

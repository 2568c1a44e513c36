import type { Context } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import type { Redactor } from '../privacy/redactor.js';

/**
 * What the app has said about one inbound request while it is served: who the user is, and
 * the first error a framework reported. Shared by every processor and helper in the process.
 */
export class RequestState {
  userId: string | undefined;
  errorMessage: string | undefined;
}

/**
 * Where a request's state lives: on its SERVER span, under a registered symbol, so that two
 * copies of this package in one process (the register entry and the app's import) share it.
 * Not a WeakMap: one entry per request made V8 give every span an identity hash and its
 * scavenges ephemerons to trace: about 7 µs per request (`npm run bench:hot-path`).
 */
const STATE = Symbol.for('otel-pg-analytics.request-state');

interface WithState {
  [STATE]?: RequestState;
}

/** The state of a request, if the app said anything about it. */
export function requestStateIfAny(requestSpan: object): RequestState | undefined {
  return (requestSpan as WithState)[STATE];
}

/** The state of a request, created on first use. */
export function requestStateOf(requestSpan: object): RequestState {
  return ((requestSpan as WithState)[STATE] ??= new RequestState());
}

/**
 * Records `message` as the error of the request being served in `ctx`, redacted, unless an
 * earlier error was recorded (the first error is the cause; later ones are consequences).
 */
export function noteRequestError(ctx: Context, message: string, redactor: Redactor): void {
  const requestSpan = findRequestSpan(ctx);
  if (!requestSpan) return;
  const state = requestStateOf(requestSpan);
  state.errorMessage ??= redactor.redactText(message);
}

/**
 * The SERVER span of the request being served in `ctx`, found through the RPC metadata that
 * instrumentation-http stores per request (not by trace id: requests can share a trace).
 */
export function findRequestSpan(ctx: Context): object | undefined {
  return getRPCMetadata(ctx)?.span;
}

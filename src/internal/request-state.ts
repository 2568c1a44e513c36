import type { Context } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import type { Redactor } from './redactor.js';

/**
 * What the app has said about one inbound request while it is served: who the user is, and
 * the first error a framework reported. Shared by every processor and helper in the process.
 */
export class RequestState {
  userId: string | undefined;
  errorMessage: string | undefined;
}

const REGISTRY = Symbol.for('otel-pg-analytics.request-states');

/**
 * Request states by their SERVER span. Kept on `globalThis` so that two copies of this
 * package in one process (the register entry and the app's import) share it.
 */
export function requestStates(): WeakMap<object, RequestState> {
  // Found once per copy of this module: a symbol lookup on globalThis on every span adds up.
  return (states ??= (globalThis as { [REGISTRY]?: WeakMap<object, RequestState> })[REGISTRY] ??=
    new WeakMap());
}

let states: WeakMap<object, RequestState> | undefined;

/** The state of a request, created on first use. */
export function requestStateOf(requestSpan: object): RequestState {
  const states = requestStates();
  let state = states.get(requestSpan);
  if (!state) {
    state = new RequestState();
    states.set(requestSpan, state);
  }
  return state;
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

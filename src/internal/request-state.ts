import type { Context } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import type { ReadableSpanLike } from '../span-types.js';

/**
 * What is known about one inbound request while it is served: who the user is, the first
 * error seen on a child span, and the outbound calls that finished before the request did
 * (held so that a later `setUser()` still applies to them).
 */
export class RequestState {
  userId: string | undefined;
  errorMessage: string | undefined;
  ended = false;
  held: ReadableSpanLike[] | undefined;
  holdTimer: NodeJS.Timeout | undefined;

  constructor(readonly excluded: boolean) {}
}

const REGISTRY = Symbol.for('otel-pg-analytics.request-states');

/**
 * Request states by their SERVER span. Kept on `globalThis` so that two copies of this
 * package in one process (the register entry and the app's import) share it.
 */
export function requestStates(): WeakMap<object, RequestState> {
  const holder = globalThis as { [REGISTRY]?: WeakMap<object, RequestState> };
  return (holder[REGISTRY] ??= new WeakMap());
}

/**
 * The SERVER span of the request being served in `ctx`, found through the RPC metadata that
 * instrumentation-http stores per request (not by trace id: requests can share a trace).
 */
export function findRequestSpan(ctx: Context): object | undefined {
  return getRPCMetadata(ctx)?.span;
}

import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType, type RPCMetadata } from '@opentelemetry/core';

/** Marks the RPC metadata of a request a framework said has no route. */
const UNROUTED = Symbol('otel-pg-analytics.unrouted');

type MaybeUnrouted = RPCMetadata & { [UNROUTED]?: true };

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
 * Says the request being served has no route (a framework's own answer to an unknown path,
 * even when it comes from a catch-all route): its template is dropped, and what reads the
 * route only as the response ends (Express's) leaves it so.
 */
export function reportUnrouted(): void {
  const metadata: MaybeUnrouted | undefined = getRPCMetadata(context.active());
  if (!metadata) return;
  metadata.route = undefined;
  metadata[UNROUTED] = true;
}

/** Whether `reportUnrouted` was called for the request `metadata` belongs to. */
export function isReportedUnrouted(metadata: MaybeUnrouted | undefined): boolean {
  return metadata?.[UNROUTED] === true;
}

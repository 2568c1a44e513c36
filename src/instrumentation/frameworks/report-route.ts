import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

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

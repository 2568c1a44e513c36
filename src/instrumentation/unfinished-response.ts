import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import { servingStopped } from '../lifecycle/stop-serving.js';
import { ATTR_ANALYTICS_ABORTED, ATTR_ANALYTICS_NO_RESPONSE, ATTR_ERROR_MESSAGE } from '../semconv.js';
import { reportExpressRoute } from './frameworks/record-express-outcome.js';

/** On a watched response: its server span until it emits `'finish'`, then `true`. */
const kWatch = Symbol('otel-pg-analytics.response-watch');

type WatchedResponse = ServerResponse & { [kWatch]?: Span | true };

function markFinished(this: ServerResponse): void {
  const span = (this as WatchedResponse)[kWatch];
  (this as WatchedResponse)[kWatch] = true;
  reportExpressRoute(this.req, span === true ? undefined : span);
}

/**
 * Watches `response` for `'finish'`, which Node emits once the last byte went to the socket:
 * call it as the response starts, then ask {@link responseFinished}. `writableFinished` cannot
 * say it on every version: Node 24 keeps it as a flag set by `'finish'`, but Node 22 computes
 * it (ended, nothing buffered), so an `end()` after the client closed the connection (an error
 * page for an upload cut off) reads as finished there although nothing was sent.
 *
 * Given the response's server `span`, `'finish'` is also where the route of an Express request
 * is reported (`reportExpressRoute`): it comes before the `'close'` on which
 * instrumentation-http reads the route for its metric and span name.
 */
export function watchResponseFinish(response: ServerResponse, span?: Span): void {
  (response as WatchedResponse)[kWatch] = span;
  // Through the class's `on`, past the instance's: instrumentation-http has bound the response
  // to the request's context by now, which wraps every listener added through the instance (a
  // closure, a map entry, a context switch when it runs). Setting a flag needs no context, and
  // the route is reported only where the context `end()` ran in is the response's own.
  (Object.getPrototypeOf(response) as ServerResponse).on.call(response, 'finish', markFinished);
}

/** Whether a watched response emitted `'finish'`: its client got all of it. */
export function responseFinished(response: ServerResponse): boolean {
  return (response as WatchedResponse)[kWatch] === true;
}

/**
 * The status Node writes itself, in place of the app, for an error of the request's
 * connection while the client is still there: a request it cannot parse and one too slow to
 * arrive, as `_http_server.js` answers them (an app's `clientError` listener answers instead,
 * as a rule with the same). Not for a request that ends early (`HPE_INVALID_EOF_STATE`) or a
 * reset: the client has gone, and nothing written then reaches it.
 */
function nodeAnswer(code: unknown): number | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'HPE_INVALID_EOF_STATE') return undefined;
  return typeof code === 'string' && code.startsWith('HPE_') ? 400 : undefined;
}

/**
 * Says on the span of a server response that did not finish what its client got, before the
 * span ends (the instrumentation has set the status the app left, which is 200 when it never
 * chose one):
 * - Node answered the request itself (it could not parse it, or it was too slow): Node's
 *   status (400, 408, 413 or 431) and its error;
 * - nothing reached the client: `analytics.no_response`, which is `process_stopped` when the
 *   register entry cut it on a signal, else `client_closed`. A client that went away before
 *   its request was complete (an upload cut off) is in this case even when the app then
 *   wrote a head: it was written to a connection already closing. (A client that only
 *   half-closed could still read it; the server cannot tell the two apart.)
 * - else the head went out: its status stays, flagged `analytics.aborted` (the body was cut).
 */
export function describeUnfinishedResponse(
  span: Span,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  span.setAttribute(ATTR_ANALYTICS_ABORTED, true);
  const headWritten = headWrittenOf(response);
  const error = request.socket?.errored as (Error & { code?: unknown }) | null | undefined;
  const status = error && !headWritten ? nodeAnswer(error.code) : undefined;
  if (status !== undefined) {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    span.setAttribute(ATTR_ERROR_MESSAGE, error!.message);
  } else if (servingStopped()) {
    if (!headWritten) span.setAttribute(ATTR_ANALYTICS_NO_RESPONSE, 'process_stopped');
  } else if (!headWritten || !request.complete) {
    span.setAttribute(ATTR_ANALYTICS_NO_RESPONSE, 'client_closed');
  }
}

/**
 * Whether the response's head went to the socket: `headersSent` is already true once
 * `writeHead()` stored it, before anything was written.
 */
function headWrittenOf(response: ServerResponse): boolean {
  return (response as ServerResponse & { _headerSent?: boolean })._headerSent ?? response.headersSent;
}

import { subscribe } from 'node:diagnostics_channel';
import type { Attributes, Span } from '@opentelemetry/api';
import { safeExecute } from '../support/safe-execute.js';
import { ATTR_HTTP_RESPONSE_BODY_SIZE } from '../semconv.js';
import { BodyCapture } from './body-capture.js';
import type { CaptureKind } from './token-usage.js';
import { usageAttributes } from './usage-attributes.js';

/** Where a capture's chunks come from: a tapped handler or parser, or undici's channel. */
export type ChunkSource = 'tap' | 'channel';

/** A response being read for usage, and the span its usage goes on. */
interface Capture {
  span: Span;
  kind: CaptureKind;
  body: BodyCapture;
  /** The source that delivered the first chunk; the other, if it sees the same bytes, is ignored. */
  source?: ChunkSource;
}

const KEY = Symbol.for('otel-pg-analytics.usage-captures');

/** Captures by the request object they belong to (undici's, or a `ClientRequest`). */
function captures(): WeakMap<object, Capture> {
  const holder = globalThis as { [KEY]?: WeakMap<object, Capture> };
  return (holder[KEY] ??= new WeakMap());
}

/** Starts reading the response to `request` for usage; its usage will go on `span`. */
export function startCapture(request: object, span: Span, kind: CaptureKind): void {
  captures().set(request, { span, kind, body: new BodyCapture(kind) });
}

/**
 * A chunk of the response to `request`, from `source`. A request can be seen by two sources at
 * once (an undici that both calls the tapped handler and publishes its chunks): the first one
 * to deliver is kept, so no byte is counted twice. Never throws into the caller's stream.
 */
export function pushChunk(request: object | undefined, source: ChunkSource, chunk: Uint8Array): void {
  safeExecute(
    'usage capture',
    () => {
      const capture = captureOf(request);
      if (!capture) return;
      capture.source ??= source;
      if (capture.source === source) capture.body.push(chunk);
    },
    undefined,
  );
}

/** The capture of `request`, if one was started. */
export function captureOf(request: object | undefined): Capture | undefined {
  return request === undefined ? undefined : captures().get(request);
}

/**
 * The response to `request` ended (or broke off): read the usage and put it on the span,
 * which is still open when the body ended normally (this runs before the instrumentation
 * ends it). Runs once per capture; never throws.
 */
export function finishCapture(request: object, incomplete = false): void {
  safeExecute(
    'usage capture',
    () => {
      const capture = captures().get(request);
      if (!capture) return;
      captures().delete(request);
      const result = capture.body.finish(incomplete);
      if (!capture.span.isRecording()) return;
      capture.span.setAttributes(usageAttributes(capture.kind, result));
      // Every byte that arrived passed here, so a size the response did not declare (a chunked
      // or streamed body, which fetch spans otherwise lack) is known all the same.
      const attributes = (capture.span as unknown as { attributes?: Attributes }).attributes;
      if (capture.body.bytes > 0 && attributes?.[ATTR_HTTP_RESPONSE_BODY_SIZE] === undefined) {
        capture.span.setAttribute(ATTR_HTTP_RESPONSE_BODY_SIZE, capture.body.bytes);
      }
    },
    undefined,
  );
}

/**
 * Taps the request's own handler, so that a response is seen whichever undici carries it:
 * undici keeps the handler on the request under a `handler` symbol and hands it each chunk, as
 * `onData(chunk)` up to 7.x and as `onResponseData(controller, chunk)` from 8.x (a request
 * that has `onResponseData` itself calls its handler's). The channel is not enough: undici
 * publishes body chunks only since a 7.x minor (Node 22's 6.x never does), and the undici that
 * carries a global `fetch` is whichever installed the global dispatcher (an app that imports
 * `undici` replaces Node's own), so Node's bundled version says nothing about it. The handler
 * is wrapped for this one request only and passes every chunk on unchanged. Returns false when
 * the request has no handler of a known shape.
 */
export function tapUndiciHandler(request: object): boolean {
  const key = Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'handler');
  const handler = key === undefined ? undefined : (request as Record<symbol, unknown>)[key];
  if (typeof handler !== 'object' || handler === null) return false;
  const method =
    typeof (request as { onResponseData?: unknown }).onResponseData === 'function'
      ? 'onResponseData'
      : 'onData';
  const original = (handler as Record<string, unknown>)[method];
  if (typeof original !== 'function') return false;
  const at = method === 'onData' ? 0 : 1;
  (handler as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    pushChunk(request, 'tap', args[at] as Uint8Array);
    return (original as (...args: unknown[]) => unknown).apply(this, args);
  };
  return true;
}

let subscribed = false;

/**
 * Follows response bodies of `fetch`/undici calls on undici's diagnostics channels. Must run
 * before instrumentation-undici subscribes (its constructor does), so that at the end of a
 * response usage reaches the span before the instrumentation ends it: subscribers run in order.
 */
export function subscribeUndiciBodies(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('undici:request:bodyChunkReceived', (message) => {
    const { request, chunk } = message as { request: object; chunk: Uint8Array };
    pushChunk(request, 'channel', chunk);
  });
  subscribe('undici:request:trailers', (message) => finishCapture((message as { request: object }).request));
  subscribe('undici:request:error', (message) =>
    finishCapture((message as { request: object }).request, true),
  );
}

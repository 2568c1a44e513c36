import { subscribe } from 'node:diagnostics_channel';
import type { Span } from '@opentelemetry/api';
import { safeExecute } from '../internal/safe-execute.js';
import { BodyCapture } from './body-capture.js';
import { usageAttributes } from './usage-attributes.js';

/** A response being read for usage, and the span its usage goes on. */
interface Capture {
  span: Span;
  provider: string;
  body: BodyCapture;
}

const KEY = Symbol.for('otel-pg-analytics.usage-captures');

/** Captures by the request object they belong to (undici's, or a `ClientRequest`). */
function captures(): WeakMap<object, Capture> {
  const holder = globalThis as { [KEY]?: WeakMap<object, Capture> };
  return (holder[KEY] ??= new WeakMap());
}

/** Starts reading the response to `request` for usage; its usage will go on `span`. */
export function startCapture(request: object, span: Span, provider: string, path: string): void {
  captures().set(request, { span, provider, body: new BodyCapture(provider, path) });
}

/** The capture of `request`, if one was started. */
export function captureOf(request: object | undefined): Capture | undefined {
  return request === undefined ? undefined : captures().get(request);
}

/**
 * The response to `request` ended (or broke off): read the usage and put it on the span,
 * which is still open (this runs before the instrumentation ends it).
 */
export function finishCapture(request: object, incomplete = false): void {
  const capture = captures().get(request);
  if (!capture) return;
  captures().delete(request);
  const result = capture.body.finish(incomplete);
  if (capture.span.isRecording()) capture.span.setAttributes(usageAttributes(capture.provider, result));
}

/** Node 22's bundled undici (6.x) does not publish response body chunks; 24's (7.x) does. */
export const UNDICI_PUBLISHES_BODY = Number(process.versions.undici?.split('.')[0] ?? 0) >= 7;

let subscribed = false;

/**
 * Follows response bodies of `fetch`/undici calls on undici's diagnostics channels. Must run
 * before instrumentation-undici subscribes (its constructor does), so that at the end of a
 * response usage reaches the span before the instrumentation ends it: subscribers run in order.
 */
export function subscribeUndiciBodies(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('undici:request:bodyChunkReceived', (message) =>
    safeExecute(
      'usage capture',
      () => {
        const { request, chunk } = message as { request: object; chunk: Uint8Array };
        captureOf(request)?.body.push(chunk);
      },
      undefined,
    ),
  );
  subscribe('undici:request:trailers', (message) =>
    safeExecute('usage capture', () => finishCapture((message as { request: object }).request), undefined),
  );
  subscribe('undici:request:error', (message) =>
    safeExecute(
      'usage capture',
      () => finishCapture((message as { request: object }).request, true),
      undefined,
    ),
  );
}

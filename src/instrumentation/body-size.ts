import type { IncomingMessage, OutgoingMessage } from 'node:http';

const kCount = Symbol('otel-pg-analytics.bodyBytes');

interface Counted {
  [kCount]?: { bytes: number };
}

/**
 * Counts the body bytes written to a response or a client request by wrapping `write` and
 * `end` on that one object. Middleware that wraps them later (compression) calls through
 * ours, so the count is the bytes on the wire.
 */
export function countWrittenBytes(message: OutgoingMessage): void {
  const counted = message as OutgoingMessage & Counted;
  if (counted[kCount]) return;
  const counter = { bytes: 0 };
  counted[kCount] = counter;
  // The originals are called with the message as `this`, exactly as Node would call them.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const write = message.write;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const end = message.end;
  message.write = function (this: OutgoingMessage, chunk: unknown, ...rest: unknown[]) {
    counter.bytes += byteLength(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as OutgoingMessage['write'];
  message.end = function (this: OutgoingMessage, chunk?: unknown, ...rest: unknown[]) {
    if (!this.writableEnded) counter.bytes += byteLength(chunk, rest[0]);
    return (end as (...args: unknown[]) => OutgoingMessage).call(this, chunk, ...rest);
  } as OutgoingMessage['end'];
}

/**
 * Counts the body bytes of an incoming message (a request body, or a client's response)
 * without reading it: the parser hands each chunk to `push`, whether or not anyone listens.
 * Adding a `'data'` listener instead would switch the stream to flowing mode under the app.
 * `tap` sees each chunk too (to read an LLM response's usage as it passes).
 */
export function countReadBytes(message: IncomingMessage, tap?: (chunk: Uint8Array) => void): void {
  const counted = message as IncomingMessage & Counted;
  if (counted[kCount]) return;
  const counter = { bytes: 0 };
  counted[kCount] = counter;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const push = message.push;
  message.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk !== null && chunk !== undefined) {
      counter.bytes += byteLength(chunk, encoding);
      if (tap && chunk instanceof Uint8Array) tap(chunk);
    }
    return push.call(this, chunk, encoding);
  };
}

/** Bytes counted on a message by {@link countWrittenBytes} or {@link countReadBytes}. */
export function countedBytes(message: unknown): number | undefined {
  return (message as Counted | undefined)?.[kCount]?.bytes;
}

/**
 * The body size a request declares: its `Content-Length` when valid, `0` when it has neither
 * a length nor chunked encoding (such a request has no body), else `undefined` (count it).
 */
export function declaredRequestBodySize(
  headers: Record<string, string | string[] | undefined>,
): number | undefined {
  const length = contentLength(headers);
  if (length !== undefined) return length;
  return headers['transfer-encoding'] === undefined ? 0 : undefined;
}

/**
 * The body size a response to `method` declares: `0` for HEAD and for 204 and 304 (which carry
 * none, whatever `Content-Length` says), its `Content-Length` when valid, else `undefined`:
 * a chunked or close-delimited body has to be counted.
 */
export function declaredResponseBodySize(
  method: string | undefined,
  status: number | undefined,
  headers: Record<string, string | string[] | undefined>,
): number | undefined {
  if (method === 'HEAD' || status === 204 || status === 304) return 0;
  return contentLength(headers);
}

function contentLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const length = headers['content-length'];
  return typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : undefined;
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

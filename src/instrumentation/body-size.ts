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
 */
export function countReadBytes(message: IncomingMessage): void {
  const counted = message as IncomingMessage & Counted;
  if (counted[kCount]) return;
  const counter = { bytes: 0 };
  counted[kCount] = counter;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const push = message.push;
  message.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk !== null && chunk !== undefined) counter.bytes += byteLength(chunk, encoding);
    return push.call(this, chunk, encoding);
  };
}

/** Bytes counted on a message by {@link countWrittenBytes} or {@link countReadBytes}. */
export function countedBytes(message: unknown): number | undefined {
  return (message as Counted | undefined)?.[kCount]?.bytes;
}

/**
 * The declared body size of a message: its `Content-Length` when valid, `0` when it has no
 * body at all (neither length nor chunked encoding), else `undefined` (count it instead).
 */
export function declaredBodySize(headers: Record<string, string | string[] | undefined>): number | undefined {
  const length = headers['content-length'];
  if (typeof length === 'string' && /^\d+$/.test(length)) return Number(length);
  if (headers['transfer-encoding'] === undefined) return 0;
  return undefined;
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

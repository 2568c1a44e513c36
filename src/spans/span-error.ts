import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpanLike } from '../span-types.js';

/** A span's own error: its status message, else its first exception event's message. */
export function spanErrorMessage(span: ReadableSpanLike): string | undefined {
  if (span.status.code === SpanStatusCode.ERROR && span.status.message) return span.status.message;
  for (const event of span.events) {
    if (event.name !== 'exception') continue;
    const message = event.attributes?.['exception.message'];
    if (typeof message === 'string' && message.length > 0) return message;
  }
  return undefined;
}

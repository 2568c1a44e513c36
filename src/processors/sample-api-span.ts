import { SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import { ATTR_ANALYTICS_NO_RESPONSE } from '../semconv.js';
import type { ReadableSpanLike } from '../span-types.js';

/** Whether an API span is kept, what it stands for, and whether it was slow. */
export interface SamplingDecision {
  keep: boolean;
  /** `1 / rate` for a row kept by chance, 1 for a row always kept. */
  weight: number;
  slow: boolean;
}

/**
 * Thins ordinary API rows at span end, when status and duration are known: server errors,
 * responses without a status, requests that got no response and slow requests are always
 * kept; the rest are kept when the trace id hashes below `rate`, so all rows of one trace
 * share the decision (the span id instead when the trace id came from the client). A head
 * sampler cannot do this: it decides before status and duration exist.
 */
export function sampleApiSpan(
  span: ReadableSpanLike,
  rate: number,
  slowRequestMillis: number,
): SamplingDecision {
  const slow = hrTimeToMilliseconds(span.duration) >= slowRequestMillis;
  if (rate >= 1) return { keep: true, weight: 1, slow };
  const status = span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
  const failed =
    typeof status !== 'number' ||
    status >= 500 ||
    span.status.code === SpanStatusCode.ERROR ||
    span.attributes[ATTR_ANALYTICS_NO_RESPONSE] !== undefined;
  if (failed || slow) return { keep: true, weight: 1, slow };
  // A trace id from an inbound `traceparent` is the client's choice: a client could pick ids
  // that are always dropped (hiding its traffic) or always kept. Then the local span id decides.
  const { traceId, spanId } = span.spanContext();
  const key = span.parentSpanContext?.isRemote ? spanId.padStart(32, '0') : traceId;
  const keep = traceIdRatio(key) < rate;
  return { keep, weight: keep ? 1 / rate : 0, slow };
}

/** A trace id's position in [0, 1), from its last 8 hex digits (the random part). */
export function traceIdRatio(traceId: string): number {
  const tail = Number.parseInt(traceId.slice(-8), 16);
  return Number.isNaN(tail) ? 0 : tail / 0x1_0000_0000;
}

import type { Attributes, HrTime } from '@opentelemetry/api';
import { hrTimeDuration } from '@opentelemetry/core';
import type { ReadableSpanLike } from '../span-types.js';

/**
 * A copy of a finished span with attributes added. Ended spans are immutable, so whatever is
 * only known after the end (the request's user, the sampling weight, the cost) travels on a
 * derived span that only the downstream processor sees. With `endTime`, the copy is a
 * snapshot of a span still open (recorded as incomplete). `base` stands in for the span's own
 * attributes (an attempt's, completed with its caller's).
 */
export function deriveSpan(
  span: ReadableSpanLike,
  extra: Attributes,
  endTime?: HrTime,
  base: Attributes = span.attributes,
): ReadableSpanLike {
  const spanContext = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => spanContext,
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: endTime ?? span.endTime,
    status: span.status,
    attributes: { ...base, ...extra },
    links: span.links,
    events: endTime ? [...span.events] : span.events,
    duration: endTime ? hrTimeDuration(span.startTime, endTime) : span.duration,
    ended: true,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

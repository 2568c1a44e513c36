import { SpanKind } from '@opentelemetry/api';
import {
  ATTR_ANALYTICS_AUTH_EVENT_TYPE,
  ATTR_ANALYTICS_RECORD,
  RECORD_API,
  RECORD_AUTH,
  RECORD_EXTERNAL,
  TRACER_NAME,
  type RecordType,
} from '../semconv.js';
import type { ReadableSpanLike } from '../span-types.js';

const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
const UNDICI_SCOPE = '@opentelemetry/instrumentation-undici';

/**
 * Which table a span belongs to, or `undefined` for spans that become no row (framework
 * middleware, database calls...). A span tagged by our processor says so itself; otherwise
 * its kind and instrumentation scope decide.
 */
export function classifySpan(span: ReadableSpanLike): RecordType | undefined {
  const tagged = span.attributes[ATTR_ANALYTICS_RECORD];
  if (tagged === RECORD_API || tagged === RECORD_AUTH || tagged === RECORD_EXTERNAL) return tagged;
  const scope = span.instrumentationScope.name;
  if (scope === TRACER_NAME) {
    return span.attributes[ATTR_ANALYTICS_AUTH_EVENT_TYPE] !== undefined ? RECORD_AUTH : undefined;
  }
  if (scope !== HTTP_SCOPE && scope !== UNDICI_SCOPE) return undefined;
  if (span.kind === SpanKind.SERVER) return scope === HTTP_SCOPE ? RECORD_API : undefined;
  if (span.kind === SpanKind.CLIENT) return RECORD_EXTERNAL;
  return undefined;
}

import { SpanKind } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD } from '@opentelemetry/semantic-conventions';
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
/** The request method under the stable name, or the old one other languages' SDKs still emit. */
const OLD_HTTP_METHOD = 'http.method';

/**
 * Which table a span belongs to, or `undefined` for spans that become no row (framework
 * middleware, database calls...). A span tagged by our processor says so itself; spans of
 * this package and of the http and undici instrumentations are known by their scope.
 *
 * Any other span (another instrumentation in the process, or a service in another language
 * sending OTLP to `otel-pg-analytics ingest`) is decided by its kind and attributes:
 * - an `analytics.auth.event_type` attribute makes it an authentication event;
 * - a SERVER span with an HTTP method (`http.request.method`, or the old `http.method`) is a
 *   request, unless its parent is local: a framework's own SERVER span inside the request span
 *   (Next.js makes one) is the same request again. In-process SDKs leave `isRemote` unset for
 *   local parents, so only a root span or one continuing a remote parent counts;
 * - a CLIENT span with an HTTP method is an external call.
 */
export function classifySpan(span: ReadableSpanLike): RecordType | undefined {
  const tagged = span.attributes[ATTR_ANALYTICS_RECORD];
  if (tagged === RECORD_API || tagged === RECORD_AUTH || tagged === RECORD_EXTERNAL) return tagged;
  const scope = span.instrumentationScope.name;
  if (scope === TRACER_NAME) {
    return span.attributes[ATTR_ANALYTICS_AUTH_EVENT_TYPE] !== undefined ? RECORD_AUTH : undefined;
  }
  if (scope === HTTP_SCOPE || scope === UNDICI_SCOPE) {
    if (span.kind === SpanKind.SERVER) return scope === HTTP_SCOPE ? RECORD_API : undefined;
    if (span.kind === SpanKind.CLIENT) return RECORD_EXTERNAL;
    return undefined;
  }
  return classifyByAttributes(span);
}

/** The parts of a span (live or finished, of any SDK) that say what role it plays in a call. */
export interface SpanRoleView {
  readonly kind?: SpanKind | undefined;
  readonly instrumentationScope?: { readonly name?: string | undefined } | undefined;
}

/**
 * Whether the span is the HTTP client span of one attempt: instrumentation-http's or
 * instrumentation-undici's CLIENT span, made in this process.
 */
export function isHttpAttempt(span: SpanRoleView): boolean {
  if (span.kind !== SpanKind.CLIENT) return false;
  const scope = span.instrumentationScope?.name;
  return scope === HTTP_SCOPE || scope === UNDICI_SCOPE;
}

/**
 * Whether the span could be the caller of HTTP attempts: any other CLIENT span (an SDK's own
 * call span, a GenAI instrumentation's), with or without an HTTP method. It is one once an
 * attempt starts under it. Checks the kind first: most spans are not CLIENT spans.
 */
export function isCallerCandidate(span: SpanRoleView): boolean {
  if (span.kind !== SpanKind.CLIENT) return false;
  const scope = span.instrumentationScope?.name;
  return scope !== HTTP_SCOPE && scope !== UNDICI_SCOPE && scope !== TRACER_NAME;
}

function classifyByAttributes(span: ReadableSpanLike): RecordType | undefined {
  const a = span.attributes;
  if (typeof a[ATTR_ANALYTICS_AUTH_EVENT_TYPE] === 'string') return RECORD_AUTH;
  const method = a[ATTR_HTTP_REQUEST_METHOD] ?? a[OLD_HTTP_METHOD];
  if (typeof method !== 'string' || method.length === 0) return undefined;
  if (span.kind === SpanKind.SERVER) {
    const parent = span.parentSpanContext;
    return parent === undefined || parent.isRemote === true ? RECORD_API : undefined;
  }
  if (span.kind === SpanKind.CLIENT) return RECORD_EXTERNAL;
  return undefined;
}

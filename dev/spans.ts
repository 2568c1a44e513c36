import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import type { ReadableSpanLike, TimedEventLike } from '../src/span-types.js';

/** Options of {@link fakeSpan}. */
export interface FakeSpanOptions {
  kind?: SpanKind;
  scope?: string;
  attributes?: Attributes;
  startTime?: HrTime;
  durationMillis?: number;
  status?: { code: SpanStatusCode; message?: string };
  events?: TimedEventLike[];
  traceId?: string;
  spanId?: string;
  serviceName?: string;
}

/** A finished span as the SDK would hand it to an exporter. */
export function fakeSpan(options: FakeSpanOptions = {}): ReadableSpanLike {
  const traceId = options.traceId ?? randomBytes(16).toString('hex');
  const spanId = options.spanId ?? randomBytes(8).toString('hex');
  const start: HrTime = options.startTime ?? [1_780_000_000, 123_456_789];
  const millis = options.durationMillis ?? 12.5;
  const duration: HrTime = [Math.floor(millis / 1000), Math.round((millis % 1000) * 1e6)];
  const end: HrTime = [start[0] + duration[0], start[1] + duration[1]];
  return {
    name: 'span',
    kind: options.kind ?? SpanKind.SERVER,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: undefined,
    startTime: start,
    endTime: end,
    status: options.status ?? { code: SpanStatusCode.UNSET },
    attributes: options.attributes ?? {},
    links: [],
    events: options.events ?? [],
    duration,
    ended: true,
    resource: { attributes: { 'service.name': options.serviceName ?? 'test-service' } },
    instrumentationScope: { name: options.scope ?? '@opentelemetry/instrumentation-http' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** An inbound request span, as instrumentation-http and our hooks leave it. */
export function apiSpan(attributes: Attributes = {}, options: FakeSpanOptions = {}): ReadableSpanLike {
  return fakeSpan({
    ...options,
    kind: SpanKind.SERVER,
    scope: '@opentelemetry/instrumentation-http',
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/api/items/42',
      'http.response.status_code': 200,
      'network.peer.address': '127.0.0.1',
      'user_agent.original': 'test/1.0',
      ...attributes,
    },
  });
}

/** An auth event span, as recordAuthEvent() creates it. */
export function authSpan(attributes: Attributes = {}, options: FakeSpanOptions = {}): ReadableSpanLike {
  return fakeSpan({
    ...options,
    kind: SpanKind.INTERNAL,
    scope: 'otel-pg-analytics',
    attributes: {
      'analytics.record': 'auth',
      'analytics.auth.event_type': 'login',
      'analytics.auth.success': true,
      'enduser.id': 'user-1',
      'analytics.client.address': '203.0.113.9',
      ...attributes,
    },
  });
}

/** An outbound call span, as instrumentation-undici and our hooks leave it. */
export function externalSpan(attributes: Attributes = {}, options: FakeSpanOptions = {}): ReadableSpanLike {
  return fakeSpan({
    ...options,
    kind: SpanKind.CLIENT,
    scope: '@opentelemetry/instrumentation-undici',
    attributes: {
      'http.request.method': 'POST',
      'url.full': 'https://api.brightdata.com/request',
      'url.path': '/request',
      'server.address': 'api.brightdata.com',
      'server.port': 443,
      'http.response.status_code': 200,
      'analytics.record': 'external',
      'service.peer.name': 'brightdata',
      'analytics.cost.usd': 0.0015,
      ...attributes,
    },
  });
}

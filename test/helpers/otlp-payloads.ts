import { randomBytes } from 'node:crypto';
import { OTLP_TYPES } from '../../ingest/otlp-proto-root.js';

/**
 * OTLP export requests shaped as other languages' SDKs send them, in OTLP/JSON (hex ids,
 * enums as integers, 64-bit integers as strings). Attribute sets follow the instrumentations'
 * documented output: Python's Django and requests instrumentations under the old HTTP
 * conventions (their default until OTEL_SEMCONV_STABILITY_OPT_IN=http), and Go's otelhttp
 * under the stable ones (v0.5x), plus a Go client under the old ones (semconv v1.20).
 */

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { boolValue: boolean }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } };

export interface OtlpSpanInput {
  name: string;
  /** OTLP kind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean | string[]>;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  /** Milliseconds. */
  durationMillis?: number;
  status?: { code: number; message?: string };
  flags?: number;
  events?: { name: string; attributes: Record<string, string> }[];
}

export interface OtlpScopeInput {
  scope: { name: string; version?: string };
  spans: OtlpSpanInput[];
}

/**
 * When the spans start: a minute before the tests started (ingest refuses spans far from when
 * it receives them), at .123456789 of a second to show that nanoseconds survive.
 */
export const START_NANOS = BigInt(Math.floor(Date.now() / 1000) - 60) * 1_000_000_000n + 123_456_789n;

export function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function anyValue(value: string | number | boolean | string[]): AnyValue {
  if (Array.isArray(value)) return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function keyValues(attributes: Record<string, string | number | boolean | string[]>) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** An ExportTraceServiceRequest (OTLP/JSON) from one service. */
export function otlpRequest(
  resource: Record<string, string | number | boolean>,
  scopes: OtlpScopeInput[],
): { resourceSpans: unknown[] } {
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues(resource) },
        scopeSpans: scopes.map(({ scope, spans }) => ({
          scope,
          spans: spans.map((span) => {
            const end = START_NANOS + BigInt(Math.round((span.durationMillis ?? 25) * 1e6));
            return {
              traceId: span.traceId ?? hexId(16),
              spanId: span.spanId ?? hexId(8),
              ...(span.parentSpanId !== undefined && { parentSpanId: span.parentSpanId }),
              ...(span.flags !== undefined && { flags: span.flags }),
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: String(START_NANOS),
              endTimeUnixNano: String(end),
              attributes: keyValues(span.attributes),
              events: (span.events ?? []).map((event) => ({
                timeUnixNano: String(end),
                name: event.name,
                attributes: keyValues(event.attributes),
              })),
              status: span.status ?? {},
            };
          }),
        })),
      },
    ],
  };
}

/** The same request in protobuf, encoded by the protobuf machinery `ingest` decodes with. */
export function toProtobuf(request: { resourceSpans: unknown[] }): Buffer {
  const copy = structuredClone(request) as {
    resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
  };
  for (const resourceSpans of copy.resourceSpans) {
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        // protobufjs's JSON form has bytes in base64; OTLP/JSON has ids in hex.
        for (const name of ['traceId', 'spanId', 'parentSpanId']) {
          if (typeof span[name] === 'string') span[name] = Buffer.from(span[name], 'hex').toString('base64');
        }
      }
    }
  }
  const type = OTLP_TYPES.exportRequest;
  return Buffer.from(type.encode(type.fromObject(copy)).finish());
}

export const PYTHON_RESOURCE = {
  'service.name': 'shop-django',
  'telemetry.sdk.language': 'python',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '1.27.0',
};

export const GO_RESOURCE = {
  'service.name': 'billing-go',
  'telemetry.sdk.language': 'go',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '1.31.0',
};

/** A Django request (old conventions), as opentelemetry-instrumentation-django 0.48b0 reports it. */
export function djangoServerSpan(overrides: Partial<OtlpSpanInput> = {}): OtlpSpanInput {
  return {
    name: 'GET api/items/<int:item_id>/',
    kind: 2,
    attributes: {
      'http.method': 'GET',
      'http.server_name': 'shop.internal',
      'http.scheme': 'http',
      'net.host.port': 8000,
      'http.host': 'shop.internal:8000',
      'http.target': '/api/items/42/?access_token=py-secret-123&page=2',
      'net.peer.ip': '198.51.100.23',
      'net.peer.port': 53422,
      'http.user_agent': 'Mozilla/5.0 (X11; Linux x86_64)',
      'http.flavor': '1.1',
      'http.route': 'api/items/<int:item_id>/',
      'http.status_code': 200,
      'enduser.id': 'py-user-7',
    },
    ...overrides,
  };
}

/** A call through `requests` (old conventions), as opentelemetry-instrumentation-requests reports it. */
export function pythonRequestsClientSpan(overrides: Partial<OtlpSpanInput> = {}): OtlpSpanInput {
  return {
    name: 'GET',
    kind: 3,
    attributes: {
      'http.method': 'GET',
      'http.url': 'https://api.openai.com/v1/models?api_key=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789',
      'http.status_code': 200,
    },
    ...overrides,
  };
}

/** A Go net/http request through otelhttp (stable conventions). */
export function goServerSpan(overrides: Partial<OtlpSpanInput> = {}): OtlpSpanInput {
  return {
    name: 'POST /invoices/{id}/pay',
    kind: 2,
    attributes: {
      'http.request.method': 'POST',
      'url.scheme': 'https',
      'url.path': '/invoices/981/pay',
      'url.query': 'sig=go-secret-456&dry_run=false',
      'server.address': 'billing.internal',
      'server.port': 8443,
      'network.peer.address': '10.1.2.3',
      'network.peer.port': 41000,
      'client.address': '203.0.113.99',
      'user_agent.original': 'Go-http-client/2.0',
      'http.route': '/invoices/{id}/pay',
      'http.response.status_code': 502,
      'network.protocol.version': '2',
    },
    status: { code: 2 },
    ...overrides,
  };
}

/** A Go client call (otelhttp transport, old conventions of semconv v1.20). */
export function goClientSpan(overrides: Partial<OtlpSpanInput> = {}): OtlpSpanInput {
  return {
    name: 'HTTP POST',
    kind: 3,
    attributes: {
      'http.method': 'POST',
      'http.url': 'https://api.brightdata.com/request',
      'net.peer.name': 'api.brightdata.com',
      'http.status_code': 200,
      'http.request_content_length': 210,
    },
    ...overrides,
  };
}

/** An auth event as a non-Node service sends it, following the wire contract in docs/otlp-ingest.md. */
export function authEventSpan(overrides: Partial<OtlpSpanInput> = {}): OtlpSpanInput {
  return {
    name: 'auth login_failed',
    kind: 1,
    attributes: {
      'analytics.auth.event_type': 'login_failed',
      'analytics.auth.success': false,
      'enduser.id': 'alice@example.com',
      'client.address': '203.0.113.50',
      'user_agent.original': 'Mozilla/5.0',
      'error.message': 'invalid password for token=abc123secret',
      'analytics.auth.metadata': '{"method":"password","password":"hunter2"}',
    },
    ...overrides,
  };
}

import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import type { ReadableSpanLike, TimedEventLike } from '../src/span-types.js';
import { withStableHttpAttributes } from '../src/spans/stable-http-attributes.js';
import { boundUsageCounts } from './bound-usage-counts.js';
import { GRPC_INVALID_ARGUMENT, IngestRequestError } from './ingest-request-error.js';
import { resourceIdentity } from './resource-identity.js';

/** What an OTLP trace export request became. */
export interface OtlpConversion {
  /** The valid spans, as finished spans of an in-process SDK would look. */
  spans: ReadableSpanLike[];
  /** Spans left out (invalid ids or times), for the response's `partial_success`. */
  rejectedSpans: number;
  /** Why the first of them was left out. */
  errorMessage: string | undefined;
}

/** Options of {@link otlpToSpans}. */
export interface OtlpToSpansOptions {
  /**
   * Applied to each span's attributes after the stable HTTP names are filled in: where the
   * privacy options (client address, user ids) reach spans that no hook of ours has seen.
   */
  protect?: (attributes: Attributes, kind: SpanKind) => Attributes;
  /**
   * When the request arrived (ms since the epoch): spans that start more than
   * {@link MAX_SPAN_AGE_MILLIS} before it, or start or end more than
   * {@link MAX_CLOCK_SKEW_MILLIS} after it, are left out. Without it times are not checked.
   */
  receivedAtMillis?: number;
}

/**
 * Oldest start accepted: 30 days. A Collector's persistent queue can deliver spans days after
 * an outage; older ones would land in days that retention (`OTEL_ANALYTICS_RETENTION`, `30d` in
 * its example) drops, or in the default partition, where 1970 rows sit out of every panel.
 */
export const MAX_SPAN_AGE_MILLIS = 30 * 24 * 60 * 60 * 1000;
/**
 * Latest start or end accepted: an hour ahead, far beyond the skew of a synchronized clock;
 * a row in 2262 would sit in the default partition for good and skew every "latest" panel.
 */
export const MAX_CLOCK_SKEW_MILLIS = 60 * 60 * 1000;

/** `SpanFlags` of trace.proto: whether the parent's locality is known, and if it is remote. */
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;
/** Nesting kept when an array or map attribute value is turned into JSON text. */
const MAX_VALUE_DEPTH = 8;
const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_MILLI = 1_000_000n;

type Primitive = string | number | boolean;

const KIND_NAMES: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES: Readonly<Record<string, number>> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

/**
 * Converts an OTLP `ExportTraceServiceRequest` in its JSON shape (as sent with
 * `application/json`, or as {@link decodeOtlpProtobuf} returns it) into finished spans with the
 * structure the exporter reads, so spans of services in other languages go through the same
 * classification and row mapping as in-process ones. Pure.
 *
 * Read leniently, as OTLP/JSON receivers should: enums as integers or names, 64-bit integers
 * as strings or numbers, unknown fields ignored. A span whose ids or times are invalid (or,
 * with `receivedAtMillis`, far from when it was received) is left out and counted; a body that
 * is no export request at all throws an {@link IngestRequestError}. Token and record counts
 * no call can have are dropped ({@link boundUsageCounts}).
 *
 * The parent's locality comes from the span's flags when its SDK sets them; otherwise a parent
 * sent in the same request by the same resource is local, any other remote (see
 * `classifySpan`): a Collector may send several services' spans of a trace together, and a
 * request's parent in another service is still remote.
 */
export function otlpToSpans(request: unknown, options: OtlpToSpansOptions = {}): OtlpConversion {
  if (!isRecord(request)) throw invalid('the body is not an ExportTraceServiceRequest object');
  const resourceSpansList = list(request.resourceSpans, 'resourceSpans');
  /** `traceId/spanId` of the spans sent, with their resource's identity. */
  const sent = new Map<string, string>();
  const resources = resourceSpansList.map((resourceSpans) => {
    const attributes = toAttributes(record(record(resourceSpans).resource).attributes);
    return { attributes, identity: resourceIdentity(attributes) };
  });
  resourceSpansList.forEach((resourceSpans, i) => {
    for (const scopeSpans of list(record(resourceSpans).scopeSpans, 'scopeSpans')) {
      for (const span of list(record(scopeSpans).spans, 'spans')) {
        const { traceId, spanId } = record(span);
        if (typeof traceId === 'string' && typeof spanId === 'string') {
          sent.set(`${traceId.toLowerCase()}/${spanId.toLowerCase()}`, resources[i]!.identity);
        }
      }
    }
  });
  const result: OtlpConversion = { spans: [], rejectedSpans: 0, errorMessage: undefined };
  for (const [i, resourceSpans] of resourceSpansList.entries()) {
    const { attributes: resourceAttributes, identity } = resources[i]!;
    for (const scopeSpans of list(record(resourceSpans).scopeSpans, 'scopeSpans')) {
      const scope = record(record(scopeSpans).scope);
      const instrumentationScope = {
        name: typeof scope.name === 'string' ? scope.name : '',
        version: typeof scope.version === 'string' && scope.version !== '' ? scope.version : undefined,
      };
      for (const span of list(record(scopeSpans).spans, 'spans')) {
        const converted = toSpan(
          record(span),
          { attributes: resourceAttributes },
          instrumentationScope,
          (parentKey) => sent.get(parentKey) === identity,
          options,
        );
        if (typeof converted === 'string') {
          result.rejectedSpans++;
          result.errorMessage ??= converted;
        } else {
          result.spans.push(converted);
        }
      }
    }
  }
  return result;
}

/** The span, or why it was left out. */
function toSpan(
  span: Record<string, unknown>,
  resource: ReadableSpanLike['resource'],
  instrumentationScope: ReadableSpanLike['instrumentationScope'],
  sentAlong: (parentKey: string) => boolean,
  options: OtlpToSpansOptions,
): ReadableSpanLike | string {
  const traceId = hexId(span.traceId, 32);
  const spanId = hexId(span.spanId, 16);
  if (traceId === undefined || spanId === undefined) return 'invalid trace or span id';
  const start = nanos(span.startTimeUnixNano);
  const end = nanos(span.endTimeUnixNano);
  if (start === undefined || end === undefined) return 'invalid start or end time';
  if (options.receivedAtMillis !== undefined) {
    const received = BigInt(Math.trunc(options.receivedAtMillis)) * NANOS_PER_MILLI;
    if (start < received - BigInt(MAX_SPAN_AGE_MILLIS) * NANOS_PER_MILLI) {
      return 'start time more than 30 days before the span was received';
    }
    const latest = received + BigInt(MAX_CLOCK_SKEW_MILLIS) * NANOS_PER_MILLI;
    if (start > latest || end > latest) {
      return 'start or end time more than an hour after the span was received';
    }
  }
  const flags = typeof span.flags === 'number' && Number.isInteger(span.flags) ? span.flags : 0;
  const parentId = hexId(span.parentSpanId, 16);
  const isRemote =
    (flags & FLAG_HAS_IS_REMOTE) !== 0
      ? (flags & FLAG_IS_REMOTE) !== 0
      : !sentAlong(`${traceId}/${parentId}`);
  const kind = spanKind(span.kind);
  let attributes = withStableHttpAttributes(boundUsageCounts(toAttributes(span.attributes)), kind);
  if (options.protect) attributes = options.protect(attributes, kind);
  const status = record(span.status);
  const statusCode = enumValue(status.code, STATUS_NAMES);
  const context = { traceId, spanId, traceFlags: flags & 0xff, isRemote: false };
  return {
    name: typeof span.name === 'string' ? span.name : '',
    kind,
    spanContext: () => context,
    parentSpanContext:
      parentId === undefined ? undefined : { traceId, spanId: parentId, traceFlags: flags & 0xff, isRemote },
    startTime: hrTime(start),
    endTime: hrTime(end),
    duration: hrTime(end - start),
    status: {
      code:
        statusCode === 2 ? SpanStatusCode.ERROR : statusCode === 1 ? SpanStatusCode.OK : SpanStatusCode.UNSET,
      ...(typeof status.message === 'string' && status.message !== '' && { message: status.message }),
    },
    attributes,
    links: [],
    events: list(span.events, 'events').map(toEvent),
    ended: true,
    resource,
    instrumentationScope,
    droppedAttributesCount: count(span.droppedAttributesCount),
    droppedEventsCount: count(span.droppedEventsCount),
    droppedLinksCount: count(span.droppedLinksCount) + list(span.links, 'links').length,
  };
}

function toEvent(event: unknown): TimedEventLike {
  const e = record(event);
  return {
    name: typeof e.name === 'string' ? e.name : '',
    time: hrTime(nanos(e.timeUnixNano) ?? 0n),
    attributes: toAttributes(e.attributes),
  };
}

/** OTLP `KeyValue`s as attributes; a key named `__proto__` stays plain data. */
function toAttributes(keyValues: unknown): Attributes {
  const entries: [string, Primitive | Primitive[]][] = [];
  for (const keyValue of list(keyValues, 'attributes')) {
    const { key, value } = record(keyValue);
    if (typeof key !== 'string' || key === '') continue;
    const converted = attributeValue(value);
    if (converted !== undefined) entries.push([key, converted]);
  }
  return Object.fromEntries(entries);
}

/**
 * An `AnyValue` as an attribute value: scalars as they are (a 64-bit integer beyond 2^53 as
 * its decimal text), arrays of one scalar type as arrays, anything else (maps, mixed arrays)
 * as JSON text, bytes as base64.
 */
function attributeValue(value: unknown): Primitive | Primitive[] | undefined {
  const plain = plainValue(value, 0);
  if (plain === undefined || plain === null) return undefined;
  if (typeof plain === 'string' || typeof plain === 'number' || typeof plain === 'boolean') return plain;
  if (Array.isArray(plain)) {
    const types = new Set(plain.map((item) => typeof item));
    const [type] = types;
    if (
      types.size <= 1 &&
      (type === undefined || type === 'string' || type === 'number' || type === 'boolean')
    ) {
      return plain as Primitive[];
    }
  }
  return JSON.stringify(plain);
}

function plainValue(value: unknown, depth: number): unknown {
  const v = record(value);
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) return integer(v.intValue);
  if (v.doubleValue !== undefined) return double(v.doubleValue);
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) {
    if (depth >= MAX_VALUE_DEPTH) return '[too deep]';
    const values = list(record(v.arrayValue ?? v.kvlistValue).values, 'values');
    if (v.arrayValue !== undefined) return values.map((item) => plainValue(item, depth + 1) ?? null);
    const entries = new Map<string, unknown>();
    for (const item of values) {
      const { key, value: inner } = record(item);
      if (typeof key === 'string') entries.set(key, plainValue(inner, depth + 1) ?? null);
    }
    return Object.fromEntries(entries);
  }
  return undefined;
}

function integer(value: unknown): number | string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value !== 'string' || !/^-?\d{1,20}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/** Doubles: JSON has no NaN or Infinity, so OTLP/JSON writes them as strings. */
function double(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function spanKind(value: unknown): SpanKind {
  switch (enumValue(value, KIND_NAMES)) {
    case 2:
      return SpanKind.SERVER;
    case 3:
      return SpanKind.CLIENT;
    case 4:
      return SpanKind.PRODUCER;
    case 5:
      return SpanKind.CONSUMER;
    default:
      return SpanKind.INTERNAL;
  }
}

function enumValue(value: unknown, names: Readonly<Record<string, number>>): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return names[value] ?? (/^\d+$/.test(value) ? Number(value) : 0);
  return 0;
}

/** A lower-case hex id of `length` digits that is not all zeros (an invalid id per W3C). */
function hexId(value: unknown, length: number): string | undefined {
  if (typeof value !== 'string' || value.length !== length || !/^[0-9a-f]+$/i.test(value)) return undefined;
  return /^0+$/.test(value) ? undefined : value.toLowerCase();
}

/** Nanoseconds since the epoch, from a decimal string or a number; at most 2^64 - 1. */
function nanos(value: unknown): bigint | undefined {
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    const n = BigInt(value);
    return n < 1n << 64n ? n : undefined;
  }
  // A JSON number this large has lost its last digits already; microseconds still stand.
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 2 ** 64) {
    return BigInt(Math.trunc(value));
  }
  return undefined;
}

function hrTime(n: bigint): HrTime {
  return [Number(n / NANOS_PER_SECOND), Number(n % NANOS_PER_SECOND)];
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** A repeated field: absent is empty; anything but an array means the body is not OTLP. */
function list(value: unknown, name: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${name} is not an array`);
  return value;
}

function invalid(message: string): IngestRequestError {
  return new IngestRequestError(400, GRPC_INVALID_ARGUMENT, message);
}

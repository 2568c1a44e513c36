import { OTLP_TYPES } from './otlp-proto-root.js';

/**
 * Decodes a protobuf `ExportTraceServiceRequest` into the shape of its OTLP/JSON encoding
 * (lowerCamelCase fields, 64-bit integers as decimal strings, trace and span ids as hex, other
 * bytes as base64), so one converter reads both encodings. Throws on bytes that are not such a
 * message (a truncated body, a wrong wire type, nesting deep enough to exhaust the stack).
 */
export function decodeOtlpProtobuf(body: Uint8Array): unknown {
  const message = OTLP_TYPES.exportRequest.decode(body);
  const request = OTLP_TYPES.exportRequest.toObject(message, {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
  }) as { resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        idsToHex(span);
        for (const link of (span.links as Record<string, unknown>[] | undefined) ?? []) idsToHex(link);
      }
    }
  }
  return request;
}

/** OTLP/JSON writes trace and span ids in hex, unlike every other bytes field. */
function idsToHex(record: Record<string, unknown>): void {
  for (const name of ['traceId', 'spanId', 'parentSpanId']) {
    const value = record[name];
    if (typeof value === 'string') record[name] = Buffer.from(value, 'base64').toString('hex');
  }
}

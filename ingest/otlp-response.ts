import { OTLP_TYPES } from './otlp-proto-root.js';

/** The two OTLP/HTTP encodings: a response is written in the encoding of its request. */
export type OtlpEncoding = 'protobuf' | 'json';

/** Content types of the OTLP/HTTP encodings. */
export const OTLP_CONTENT_TYPES: Readonly<Record<OtlpEncoding, string>> = Object.freeze({
  protobuf: 'application/x-protobuf',
  json: 'application/json',
});

/**
 * The body of a successful export: an empty `ExportTraceServiceResponse`, or one with
 * `partial_success` when some spans were rejected (the sender logs it and does not retry).
 */
export function encodeExportResponse(
  encoding: OtlpEncoding,
  rejected?: { rejectedSpans: number; errorMessage: string },
): Buffer {
  const response = rejected
    ? {
        partialSuccess: {
          rejectedSpans: String(rejected.rejectedSpans),
          errorMessage: rejected.errorMessage,
        },
      }
    : {};
  if (encoding === 'json') return Buffer.from(JSON.stringify(response));
  const type = OTLP_TYPES.exportResponse;
  return Buffer.from(type.encode(type.fromObject(response)).finish());
}

/** The body of a failed export: a `google.rpc.Status` with the gRPC code and a message. */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const type = OTLP_TYPES.status;
  return Buffer.from(type.encode(type.fromObject({ code, message })).finish());
}

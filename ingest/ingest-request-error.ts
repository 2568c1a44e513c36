import { AnalyticsError } from '../src/errors.js';

/**
 * A request `ingest` refuses, with the HTTP status it answers and the gRPC code of the
 * `google.rpc.Status` body (OTLP/HTTP says which of them a sender may retry).
 */
export class IngestRequestError extends AnalyticsError {
  readonly status: number;
  readonly grpcCode: number;

  constructor(status: number, grpcCode: number, message: string, options?: ErrorOptions) {
    super('ERR_OTEL_PG_ANALYTICS_INGEST_REQUEST', message, options);
    this.status = status;
    this.grpcCode = grpcCode;
  }
}

/** gRPC status codes used in error bodies. */
export const GRPC_INVALID_ARGUMENT = 3;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_UNAUTHENTICATED = 16;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNIMPLEMENTED = 12;
export const GRPC_NOT_FOUND = 5;

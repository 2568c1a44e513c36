import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, describeError } from '../src/support/diag.js';
import { bearerTokenMatches } from './bearer-token.js';
import { decodeOtlpProtobuf } from './decode-otlp-protobuf.js';
import {
  GRPC_INVALID_ARGUMENT,
  GRPC_NOT_FOUND,
  GRPC_UNAUTHENTICATED,
  GRPC_UNAVAILABLE,
  GRPC_UNIMPLEMENTED,
  IngestRequestError,
} from './ingest-request-error.js';
import {
  resolveIngestServerOptions,
  type IngestServerConfig,
  type ResolvedIngestServerOptions,
} from './ingest-server-options.js';
import { InFlightBudget } from './in-flight-budget.js';
import {
  encodeExportResponse,
  encodeStatus,
  OTLP_CONTENT_TYPES,
  type OtlpEncoding,
} from './otlp-response.js';
import { otlpToSpans } from './otlp-to-spans.js';
import { readRequestBody } from './read-request-body.js';

/** How often refusals over the in-flight budget are reported. */
const BUSY_REPORT_INTERVAL_MILLIS = 60_000;
/** The OTLP/HTTP path of trace exports. */
export const TRACES_PATH = '/v1/traces';

/**
 * An OTLP/HTTP receiver of trace exports (`POST /v1/traces`, protobuf or JSON, optionally
 * gzip-, deflate- or zstd-compressed), answering as the OTLP/HTTP specification says so that
 * an OpenTelemetry Collector or SDK exporter retries exactly what it should:
 *
 * - 200 with an `ExportTraceServiceResponse` in the request's encoding (with
 *   `partial_success` when some spans were invalid);
 * - 400 for a body that cannot be decoded, 413 beyond `maxBodyBytes`, 415 for another content
 *   type or encoding, 401 without the token (not retried: nothing was written);
 * - 503 with `Retry-After` when the exporter's queue has no room, or when the bytes other
 *   requests have sent fill the budget of bytes in flight (`maxInFlightBytes`) (retried later).
 *
 * Stateless: nothing is kept between requests, so any number of replicas can share a load
 * balancer (each with its own spool).
 */
export class IngestServer {
  readonly #options: ResolvedIngestServerOptions;
  readonly #pipeline: IngestServerConfig['pipeline'];
  readonly #protect: IngestServerConfig['protect'];
  readonly #server: Server;
  readonly #budget: InFlightBudget;
  /** `maxBodyBytes`, or less when the budget could never hold a body that large. */
  readonly #maxBodyBytes: number;
  readonly #logger = createLogger('ingest');
  #busyRefusals = 0;
  #busyReportedAt = Number.NEGATIVE_INFINITY;

  /**
   * Throws a `ConfigError` for an invalid setting (quoting it) or a host and token that are not
   * a safe pair (see {@link checkIngestAccess}).
   */
  constructor(config: IngestServerConfig) {
    const { pipeline, protect, ...options } = config;
    this.#options = resolveIngestServerOptions(options);
    this.#pipeline = pipeline;
    this.#protect = protect;
    this.#budget = new InFlightBudget(this.#options.maxInFlightBytes);
    this.#maxBodyBytes = Math.min(this.#options.maxBodyBytes, this.#budget.largestBodyBytes);
    this.#server = createServer(
      { requestTimeout: this.#options.requestTimeoutMillis },
      (request, response) => {
        void this.#handle(request, response);
      },
    );
  }

  /** Starts listening; resolves with the address (the port, when 0 was asked for). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Request body bytes held now against `maxInFlightBytes`. */
  get inFlightBytes(): number {
    return this.#budget.inFlightBytes;
  }

  /** Stops accepting connections and resolves when the requests being answered are done. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let encoding: OtlpEncoding = 'json';
    // Held until the spans are in the exporter's queue (or the request is refused).
    const reservation = this.#budget.open();
    let reading = false;
    try {
      const path = (request.url ?? '').split('?')[0];
      if (path !== TRACES_PATH)
        throw new IngestRequestError(404, GRPC_NOT_FOUND, `no such path; send traces to ${TRACES_PATH}`);
      if (request.method !== 'POST') {
        response.setHeader('Allow', 'POST');
        throw new IngestRequestError(405, GRPC_UNIMPLEMENTED, 'only POST is accepted');
      }
      if (
        this.#options.token !== undefined &&
        !bearerTokenMatches(request.headers.authorization, this.#options.token)
      ) {
        response.setHeader('WWW-Authenticate', 'Bearer');
        throw new IngestRequestError(401, GRPC_UNAUTHENTICATED, 'a valid bearer token is required');
      }
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (mediaType === OTLP_CONTENT_TYPES.protobuf) encoding = 'protobuf';
      else if (mediaType !== OTLP_CONTENT_TYPES.json) {
        throw new IngestRequestError(
          415,
          GRPC_UNIMPLEMENTED,
          `unsupported Content-Type ${JSON.stringify(mediaType)}; send application/x-protobuf or application/json`,
        );
      }
      reading = true;
      const body = await readRequestBody(request, reservation, {
        maxBytes: this.#maxBodyBytes,
        idleTimeoutMillis: this.#options.bodyIdleTimeoutMillis,
      });
      reading = false;
      const decoded = decode(body, encoding);
      const { spans, rejectedSpans, errorMessage } = otlpToSpans(decoded, {
        receivedAtMillis: Date.now(),
        ...(this.#protect && { protect: this.#protect }),
      });
      const outcome = this.#pipeline.submit(spans);
      if (!outcome.accepted) {
        throw new IngestRequestError(503, GRPC_UNAVAILABLE, 'the queue is full: retry later');
      }
      this.#send(
        request,
        response,
        200,
        encoding,
        encodeExportResponse(
          encoding,
          rejectedSpans > 0 ? { rejectedSpans, errorMessage: errorMessage ?? 'invalid span' } : undefined,
        ),
      );
    } catch (error) {
      if (!(error instanceof IngestRequestError)) {
        this.#logger.error(`could not handle an export: ${describeError(error)}`);
      }
      const failure =
        error instanceof IngestRequestError ? error : new IngestRequestError(500, 13, 'internal error');
      if (failure.status === 503 && reading) this.#reportBusy();
      this.#send(
        request,
        response,
        failure.status,
        encoding,
        encodeStatus(encoding, failure.grpcCode, failure.message),
      );
    } finally {
      reservation.release();
    }
  }

  /** Says, at most once a minute, that senders are being turned away for the budget. */
  #reportBusy(): void {
    this.#busyRefusals++;
    const now = Date.now();
    if (now - this.#busyReportedAt < BUSY_REPORT_INTERVAL_MILLIS) return;
    this.#logger.warn(
      `${this.#busyRefusals} export(s) answered 503 since the last report: request bodies in ` +
        `memory reached maxInFlightBytes (${this.#options.maxInFlightBytes} bytes, ` +
        'OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES); senders retry later. Add replicas or raise it',
    );
    this.#busyRefusals = 0;
    this.#busyReportedAt = now;
  }

  /**
   * Answers. A request refused before its body was read gets the whole answer at once, and the
   * response ends only once the rest of the body has arrived (discarded): ended earlier, Node
   * closes the connection with the sender's bytes unread, and the reset that follows can destroy
   * the answer before the sender reads it. A sender that goes on past the largest body more, or
   * stops sending for `bodyIdleTimeoutMillis`, has its connection closed instead (kept alive,
   * Node would read the rest of the body until the request timeout). A stalled sender (408) has
   * nothing more to send: its answer ends at once and the connection closes.
   */
  #send(
    request: IncomingMessage,
    response: ServerResponse,
    status: number,
    encoding: OtlpEncoding,
    body: Buffer,
  ): void {
    if (response.headersSent) return;
    response.statusCode = status;
    // OTLP/HTTP's throttling answer: the Collector's otlphttp exporter waits this many seconds.
    if (status === 503) response.setHeader('Retry-After', String(this.#options.retryAfterSeconds));
    response.setHeader('Content-Type', OTLP_CONTENT_TYPES[encoding]);
    response.setHeader('Content-Length', body.length);
    if (status === 408) response.setHeader('Connection', 'close');
    if (status === 408 || request.complete || request.destroyed) {
      response.end(body);
      return;
    }
    response.write(body);
    let discarded = 0;
    const finish = (cutOff: boolean): void => {
      clearTimeout(idle);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onEnd);
      if (cutOff) response.end(() => request.socket.destroy());
      else response.end();
    };
    const idle = setTimeout(() => finish(true), this.#options.bodyIdleTimeoutMillis).unref();
    const onData = (chunk: Buffer): void => {
      idle.refresh();
      discarded += chunk.length;
      if (discarded > this.#maxBodyBytes) finish(true);
    };
    const onEnd = (): void => finish(false);
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onEnd);
    request.resume();
  }
}

function decode(body: Buffer, encoding: OtlpEncoding): unknown {
  try {
    if (encoding === 'protobuf') return decodeOtlpProtobuf(body);
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new IngestRequestError(
      400,
      GRPC_INVALID_ARGUMENT,
      `the body is not an ExportTraceServiceRequest in ${encoding === 'protobuf' ? 'protobuf' : 'JSON'}`,
      { cause: error },
    );
  }
}

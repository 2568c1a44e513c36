import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../src/errors.js';
import { createLogger, describeError } from '../src/support/diag.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import type { Attributes, SpanKind } from '@opentelemetry/api';
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
import { InFlightBudget } from './in-flight-budget.js';
import type { IngestOutcome } from './ingest-pipeline.js';
import { isLoopbackHost } from './is-loopback-host.js';
import {
  encodeExportResponse,
  encodeStatus,
  OTLP_CONTENT_TYPES,
  type OtlpEncoding,
} from './otlp-response.js';
import { otlpToSpans } from './otlp-to-spans.js';
import { readRequestBody } from './read-request-body.js';
import { MAKE_TOKEN_HINT, MIN_INGEST_TOKEN_LENGTH, weakTokenReason } from './weak-token-reason.js';

export const DEFAULT_INGEST_PORT = 4318;
export const DEFAULT_INGEST_HOST = '127.0.0.1';
/** Largest request body, compressed or not (the Collector's default batches are far smaller). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/**
 * Request body bytes held at once across all requests (see {@link InFlightBudget}). Under a
 * flood of 7.5 MiB exports the process peaks at about 450 MiB with it (90 MiB at start, the
 * rest mostly V8's heap while it decodes exports back to back, much the same from one sender as
 * from a hundred); `test/security/ingest-memory-flood.test.ts` holds it to 512 MiB.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** How often refusals over the in-flight budget are reported. */
const BUSY_REPORT_INTERVAL_MILLIS = 60_000;
/** What a 503 asks the sender to wait before retrying. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** A request (headers and body) must arrive within this; a slow sender cannot hold memory for long. */
export const DEFAULT_REQUEST_TIMEOUT_MILLIS = 30_000;
/**
 * Longest pause in a body before the request is answered 408 and its connection closed: a
 * sender that stops sending gives back what it holds well before the request timeout (which
 * Node checks every 30 s). An exporter writes its body at once; a pause this long means the
 * connection is dead, or the sender means to hold it.
 */
export const DEFAULT_BODY_IDLE_TIMEOUT_MILLIS = 10_000;
/** The OTLP/HTTP path of trace exports. */
export const TRACES_PATH = '/v1/traces';

/** Options of {@link IngestServer}. */
export interface IngestServerConfig {
  /** Where received spans go: normally an `IngestPipeline`. */
  pipeline: { submit(spans: readonly ReadableSpanLike[]): IngestOutcome };
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 4318 (OTLP/HTTP's port); 0 picks a free one. */
  port?: number;
  /**
   * The bearer token senders must present (`Authorization: Bearer <token>`). Required unless
   * `host` is a loopback address: the constructor refuses to listen on the network without one.
   */
  token?: string;
  /** Largest body accepted, compressed and decompressed; beyond it 413. Defaults to 8 MiB. */
  maxBodyBytes?: number;
  /**
   * Request body bytes held in memory at once across all requests (compressed as they arrive,
   * and decompressed, until the spans are in the exporter's queue); beyond it senders get 503
   * with `Retry-After`: before their body is read when its declared length has no room, else
   * once arriving bytes would pass it. A sender holds only the bytes it has sent. Large bodies
   * may fill three quarters of it, the rest is kept for small ones, so a body over three
   * quarters of it is refused (413). Defaults to 64 MiB.
   */
  maxInFlightBytes?: number;
  /** Defaults to 5. */
  retryAfterSeconds?: number;
  /** Defaults to 30000. */
  requestTimeoutMillis?: number;
  /**
   * Longest wait for the next bytes of a body (from the headers on); beyond it 408 and the
   * connection is closed. Defaults to 10000.
   */
  bodyIdleTimeoutMillis?: number;
  /** Applied to the attributes of every received span (the privacy options). */
  protect?: (attributes: Attributes, kind: SpanKind) => Attributes;
}

/**
 * Whitespace, which ends the token in `Authorization: Bearer <token>`, and control characters,
 * which Node's parser refuses in any header.
 */
const UNSENDABLE_IN_HEADER = /[\s\p{Cc}]/u;

/**
 * Checks that a listen address and token are a safe pair, and says how to fix it if not: on
 * anything but loopback, anyone who can reach the port could write rows, so a token is needed,
 * and one that cannot be guessed (see {@link weakTokenReason}). On loopback any token will do
 * that a sender can present: none can present one with whitespace or a control character, so
 * that is refused on any host. The message never quotes the token.
 */
export function checkIngestAccess(host: string, token: string | undefined): string | undefined {
  if (token !== undefined && UNSENDABLE_IN_HEADER.test(token)) {
    return (
      `refusing to listen on ${host}: OTEL_ANALYTICS_INGEST_TOKEN has whitespace or a control ` +
      'character in it, which no "Authorization: Bearer" header can carry, so every export ' +
      `would be refused. Use a token without them (${MAKE_TOKEN_HINT})`
    );
  }
  if (isLoopbackHost(host)) return undefined;
  if (token === undefined || token.length === 0) {
    return (
      `refusing to listen on ${host} without a token: anyone who can reach it could write rows. ` +
      `Set OTEL_ANALYTICS_INGEST_TOKEN to a random secret of at least ${MIN_INGEST_TOKEN_LENGTH} ` +
      `characters (${MAKE_TOKEN_HINT}; senders then send "Authorization: Bearer <token>"), ` +
      'or listen on 127.0.0.1 behind a proxy that authenticates'
    );
  }
  const weakness = weakTokenReason(token);
  if (weakness === undefined) return undefined;
  return (
    `refusing to listen on ${host} with a weak OTEL_ANALYTICS_INGEST_TOKEN (${weakness}): anyone ` +
    `who can reach it could guess it and write rows. Use a random secret of at least ` +
    `${MIN_INGEST_TOKEN_LENGTH} characters (${MAKE_TOKEN_HINT}), or listen on 127.0.0.1`
  );
}

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
  readonly #config: Required<Omit<IngestServerConfig, 'token' | 'protect'>> &
    Pick<IngestServerConfig, 'token' | 'protect'>;
  readonly #server: Server;
  readonly #budget: InFlightBudget;
  /** `maxBodyBytes`, or less when the budget could never hold a body that large. */
  readonly #maxBodyBytes: number;
  readonly #logger = createLogger('ingest');
  #busyRefusals = 0;
  #busyReportedAt = Number.NEGATIVE_INFINITY;

  constructor(config: IngestServerConfig) {
    const host = config.host ?? DEFAULT_INGEST_HOST;
    const problem = checkIngestAccess(host, config.token);
    if (problem !== undefined) throw new ConfigError(problem);
    const maxInFlightBytes = config.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
    if (!isPositiveInteger(maxInFlightBytes)) {
      throw new ConfigError(
        `Invalid maxInFlightBytes: ${JSON.stringify(maxInFlightBytes)} (expected a positive integer of bytes)`,
      );
    }
    const bodyIdleTimeoutMillis = config.bodyIdleTimeoutMillis ?? DEFAULT_BODY_IDLE_TIMEOUT_MILLIS;
    if (!isPositiveInteger(bodyIdleTimeoutMillis)) {
      throw new ConfigError(
        `Invalid bodyIdleTimeoutMillis: ${JSON.stringify(bodyIdleTimeoutMillis)} (expected a positive integer of milliseconds)`,
      );
    }
    this.#config = Object.freeze({
      pipeline: config.pipeline,
      host,
      port: config.port ?? DEFAULT_INGEST_PORT,
      maxBodyBytes: config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      maxInFlightBytes,
      retryAfterSeconds: config.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
      requestTimeoutMillis: config.requestTimeoutMillis ?? DEFAULT_REQUEST_TIMEOUT_MILLIS,
      bodyIdleTimeoutMillis,
      ...(config.token ? { token: config.token } : {}),
      ...(config.protect ? { protect: config.protect } : {}),
    });
    this.#budget = new InFlightBudget(maxInFlightBytes);
    this.#maxBodyBytes = Math.min(this.#config.maxBodyBytes, this.#budget.largestBodyBytes);
    this.#server = createServer(
      { requestTimeout: this.#config.requestTimeoutMillis },
      (request, response) => {
        void this.#handle(request, response);
      },
    );
  }

  /** Starts listening; resolves with the address (the port, when 0 was asked for). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#config.port, this.#config.host, () => {
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
        this.#config.token !== undefined &&
        !bearerTokenMatches(request.headers.authorization, this.#config.token)
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
        idleTimeoutMillis: this.#config.bodyIdleTimeoutMillis,
      });
      reading = false;
      const decoded = decode(body, encoding);
      const { spans, rejectedSpans, errorMessage } = otlpToSpans(decoded, {
        receivedAtMillis: Date.now(),
        ...(this.#config.protect && { protect: this.#config.protect }),
      });
      const outcome = this.#config.pipeline.submit(spans);
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
        `memory reached maxInFlightBytes (${this.#config.maxInFlightBytes} bytes, ` +
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
    if (status === 503) response.setHeader('Retry-After', String(this.#config.retryAfterSeconds));
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
    const idle = setTimeout(() => finish(true), this.#config.bodyIdleTimeoutMillis).unref();
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

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
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

import type { Attributes, SpanKind } from '@opentelemetry/api';
import type { OptionSpecs, ResolvedOptions } from '../src/config/option-spec.js';
import { resolveOptions } from '../src/config/resolve-options.js';
import {
  BYTE_SIZE_TEXT,
  NON_EMPTY_STRING,
  parseByteSize,
  POSITIVE_INTEGER,
  TIMER_MILLIS,
} from '../src/config/value-checks.js';
import type { EnvSnapshot } from '../src/env.js';
import { ConfigError } from '../src/errors.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import { checkIngestAccess } from './check-ingest-access.js';
import type { IngestOutcome } from './ingest-pipeline.js';
import { MIN_DISTINCT_CHARACTERS, MIN_INGEST_TOKEN_LENGTH } from './weak-token-reason.js';

/** The settings of {@link IngestServer}: where it listens, who may send, and its bounds. */
export interface IngestServerOptions {
  /** The address to listen on. Defaults to `127.0.0.1`. */
  host?: string;
  /** Defaults to 4318 (OTLP/HTTP's port); 0 picks a free one. */
  port?: number;
  /**
   * The bearer token senders must present (`Authorization: Bearer <token>`). Required unless
   * `host` is a loopback address: the constructor refuses to listen on the network without one.
   * The command reads it from `OTEL_ANALYTICS_INGEST_TOKEN`.
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
   * quarters of it is refused (413). The command reads it from
   * `OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES`. Defaults to 64 MiB.
   */
  maxInFlightBytes?: number;
  /** What a 503 asks the sender to wait before retrying. Defaults to 5. */
  retryAfterSeconds?: number;
  /** A request (headers and body) must arrive within this. Defaults to 30000. */
  requestTimeoutMillis?: number;
  /**
   * Longest wait for the next bytes of a body (from the headers on); beyond it 408 and the
   * connection is closed. Defaults to 10000.
   */
  bodyIdleTimeoutMillis?: number;
}

/** Options of {@link IngestServer}: its settings, and where the spans it receives go. */
export interface IngestServerConfig extends IngestServerOptions {
  /** Where received spans go: normally an `IngestPipeline`. */
  pipeline: { submit(spans: readonly ReadableSpanLike[]): IngestOutcome };
  /** Applied to the attributes of every received span (the privacy options). */
  protect?: (attributes: Attributes, kind: SpanKind) => Attributes;
}

const MAX_PORT = 65_535;

/**
 * The server's settings, one spec each, as `ANALYTICS_OPTIONS` for the package's: a value in
 * code is checked as every option is, and the two the command reads from env vars carry their
 * readers, so an invalid env value is reported and the default used, as for every env var.
 * docs/otlp-ingest.md shows the table made from them.
 */
export const INGEST_SERVER_OPTIONS = {
  host: {
    ...NON_EMPTY_STRING,
    default: '127.0.0.1',
    doc: { meaning: 'the address to listen on (`--host`); off loopback a token is required' },
  },
  port: {
    check: (value) =>
      typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_PORT
        ? value
        : undefined,
    expected: `an integer from 0 to ${MAX_PORT}`,
    default: 4318,
    doc: { meaning: 'the port to listen on (`--port`); `0` picks a free one' },
  },
  token: {
    // Not trimmed: a token with whitespace in it is refused by checkIngestAccess, saying why.
    check: (value) => (typeof value === 'string' && value.length > 0 ? value : undefined),
    expected: 'a non-empty string',
    default: undefined,
    display: () => '(hidden)',
    env: [{ name: 'OTEL_ANALYTICS_INGEST_TOKEN', parse: (raw) => raw }],
    doc: {
      meaning: `the bearer token senders must present (\`Authorization: Bearer <token>\`; never logged); required off loopback, and there at least ${MIN_INGEST_TOKEN_LENGTH} characters, at least ${MIN_DISTINCT_CHARACTERS} of them different; no whitespace anywhere. Make it random: \`openssl rand -base64 32\``,
      default: 'none (loopback only)',
    },
  },
  maxBodyBytes: {
    ...POSITIVE_INTEGER,
    default: 8 * 1024 * 1024,
    doc: { meaning: 'largest body, compressed and decompressed; beyond it `413`', default: '8 MiB' },
  },
  maxInFlightBytes: {
    ...POSITIVE_INTEGER,
    // Under a flood of 7.5 MiB exports the process peaks at about 450 MiB with it (90 MiB at
    // start, the rest mostly V8's heap while it decodes exports back to back);
    // test/security/ingest-memory-flood.test.ts holds it to 512 MiB.
    default: 64 * 1024 * 1024,
    env: [
      {
        name: 'OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES',
        parse: parseByteSize,
        expected: BYTE_SIZE_TEXT,
        doc: '(bytes, or `KiB`, `MiB`, `GiB`)',
      },
    ],
    doc: {
      meaning:
        'request body bytes held at once across all requests; beyond it senders get `503` + `Retry-After`, and a body over three quarters of it `413`',
      default: '64 MiB',
    },
  },
  retryAfterSeconds: {
    check: (value) =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined,
    expected: 'a whole number of seconds',
    default: 5,
    doc: { meaning: 'the `Retry-After` of a `503`: how long the sender waits before retrying (s)' },
  },
  requestTimeoutMillis: {
    ...TIMER_MILLIS,
    default: 30_000,
    doc: {
      meaning:
        'a request (headers and body) must arrive within this, so a slow sender cannot hold memory long',
    },
  },
  bodyIdleTimeoutMillis: {
    ...TIMER_MILLIS,
    // A sender that stops sending gives back what it holds well before the request timeout
    // (which Node checks every 30 s). An exporter writes its body at once; a pause this long
    // means the connection is dead, or the sender means to hold it.
    default: 10_000,
    doc: { meaning: 'longest pause in a body; beyond it `408` and the connection is closed' },
  },
} satisfies OptionSpecs<IngestServerOptions>;

/** {@link IngestServerOptions} validated, with defaults; frozen. Derived from the specs. */
export type ResolvedIngestServerOptions = ResolvedOptions<typeof INGEST_SERVER_OPTIONS>;

/**
 * The server's settings from code, then the env vars in `env` (the command passes its snapshot;
 * the server itself reads none), then the defaults. An invalid value in code throws a
 * {@link ConfigError} quoting it; an invalid env value is reported and the default used. A
 * host and token that are not a safe pair ({@link checkIngestAccess}) throw, saying how to fix
 * it.
 */
export function resolveIngestServerOptions(
  options: IngestServerOptions,
  sources: { env?: EnvSnapshot } = {},
): ResolvedIngestServerOptions {
  const resolved = Object.freeze(resolveOptions(INGEST_SERVER_OPTIONS, options, sources));
  const problem = checkIngestAccess(resolved.host, resolved.token);
  if (problem !== undefined) throw new ConfigError(problem);
  return resolved;
}

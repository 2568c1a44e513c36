import { ANALYTICS_OPTIONS } from '../src/config/analytics-options.js';
import type { OptionDoc, OptionSpecs, ResolvedOptions } from '../src/config/option-spec.js';
import { quote, resolveOptions } from '../src/config/resolve-options.js';
import { BOUNDED_COUNT, checkNonEmptyString, TIMER_MILLIS } from '../src/config/value-checks.js';
import type { ResolvedAnalyticsConfig } from '../src/config.js';
import { clientConfigOf } from '../database/pg-client-config.js';
import { ConfigError } from '../src/errors.js';
import type { UserIdMode } from '../src/privacy/privacy-policy.js';
import { MIN_HMAC_KEY_BYTES } from '../src/privacy/pseudonymize.js';

/** A `pg.Pool`, or anything with the part of its shape Kysely uses. */
export interface PostgresPoolLike {
  connect(): Promise<unknown>;
  end(): Promise<void>;
  options: object;
}

/** Options of {@link PostgresSpanExporter}. */
export interface PostgresSpanExporterConfig {
  /** Postgres connection string; the exporter opens its own small pool on the first export. */
  connectionString?: string;
  /**
   * A pool to use instead (a function is called once, on the first export). The exporter does
   * not end a pool it was given. Give its clients an `'error'` listener (`pool.on('connect',
   * (c) => c.on('error', ...))`): `pg` emits connection resets on checked-out clients, and an
   * unhandled one ends the process.
   */
  pool?: PostgresPoolLike | (() => PostgresPoolLike);
  /** Rows waiting to be written; beyond this, new rows are dropped and counted. Defaults to 10000. */
  maxQueueRows?: number;
  /** Rows per INSERT statement. Defaults to 1000. */
  maxBatchRows?: number;
  /** How long a batch is retried while the database is unavailable. Defaults to 30000. */
  retryDeadlineMillis?: number;
  /** First retry delay, doubled (with jitter) up to `maxRetryDelayMillis`. Defaults to 100. */
  initialRetryDelayMillis?: number;
  /** Defaults to 5000. */
  maxRetryDelayMillis?: number;
  /** Server-side `statement_timeout` of the exporter's connections. Defaults to 15000. */
  statementTimeoutMillis?: number;
  /** Defaults to 5000. */
  connectionTimeoutMillis?: number;
  /** How long `shutdown()` waits for queued rows to be written. Defaults to 5000. */
  shutdownTimeoutMillis?: number;
  /** Connections in the exporter's own pool. Defaults to 2. */
  maxPoolSize?: number;
  /** Extra names to redact, as in the processors' `redactKeys`. */
  redactKeys?: readonly string[];
  /**
   * As the processors' `userIdMode`: under `hmac`, email addresses in error messages, paths,
   * query and metadata values, and user-naming fields (`email`, `username`, ...) are stored as
   * the user's pseudonym; under `none`, redacted. Defaults to `plain`.
   */
  userIdMode?: UserIdMode;
  /** Key of `userIdMode: 'hmac'`, at least 16 bytes (without it, that mode redacts instead). */
  hmacKey?: string;
  /**
   * A directory for the durable spool: rows Postgres cannot take (it stayed down past the
   * retry deadline, the queue is nearly full, or the process is shutting down) are written
   * there and replayed, in order, once it is back — also by the next process after a crash.
   * Without it such rows are dropped (and counted). When other users can write it (a shared
   * volume), the spool works in its folder `otel-pg-analytics-<euid>`, made `0700`.
   */
  spoolDir?: string;
  /** Bytes the spool may hold on disk; rows beyond are dropped (`spool_full`). Defaults to 256 MiB. */
  maxSpoolBytes?: number;
  /**
   * How often a row of counters goes to `analytics_pipeline_stats` (while Postgres is
   * reachable); `0` turns it off. Defaults to 60000.
   */
  statsIntervalMillis?: number;
  /** `service_name` of the stats rows. */
  serviceName?: string;
}

/**
 * The exporter's options, one spec each, as `ANALYTICS_OPTIONS` for the package's: the options
 * it shares with the package (`retryDeadlineMillis`, the privacy options...) are those specs,
 * so both accept the same values with the same messages. The exporter takes options in code
 * only (env vars are read at the edge: the register entry, the ingest command), so the shared
 * specs come without their env vars.
 */
export const EXPORTER_OPTIONS = {
  connectionString: inCode(ANALYTICS_OPTIONS.databaseUrl, {
    meaning:
      'Postgres connection string; the exporter opens its own small pool on the first export (this or `pool` is needed)',
  }),
  pool: {
    check: checkPool,
    expected: 'a pg.Pool, or a function that returns one',
    display: (value) =>
      typeof value === 'object' && value !== null ? 'an object without connect()' : quote(value),
    default: undefined,
    doc: {
      meaning:
        'a pool to use instead (a function is called once, on the first export); the exporter does not end it',
    },
  },
  maxQueueRows: {
    ...BOUNDED_COUNT,
    default: 10_000,
    doc: { meaning: 'rows waiting to be written; beyond this, new rows are dropped and counted' },
  },
  maxBatchRows: { ...BOUNDED_COUNT, default: 1000, doc: { meaning: 'rows per INSERT statement' } },
  retryDeadlineMillis: inCode(ANALYTICS_OPTIONS.retryDeadlineMillis),
  initialRetryDelayMillis: {
    ...TIMER_MILLIS,
    default: 100,
    doc: { meaning: 'first retry delay, doubled (with jitter) up to `maxRetryDelayMillis`' },
  },
  maxRetryDelayMillis: { ...TIMER_MILLIS, default: 5000, doc: { meaning: 'longest retry delay' } },
  statementTimeoutMillis: {
    ...TIMER_MILLIS,
    default: 15_000,
    doc: { meaning: "server-side `statement_timeout` of the exporter's connections" },
  },
  connectionTimeoutMillis: { ...TIMER_MILLIS, default: 5000, doc: { meaning: 'connection timeout' } },
  shutdownTimeoutMillis: {
    ...TIMER_MILLIS,
    default: 5000,
    doc: { meaning: 'how long `shutdown()` waits for queued rows to be written' },
  },
  maxPoolSize: { ...BOUNDED_COUNT, default: 2, doc: { meaning: "connections in the exporter's own pool" } },
  redactKeys: inCode(ANALYTICS_OPTIONS.redactKeys),
  userIdMode: inCode(ANALYTICS_OPTIONS.userIdMode, {
    meaning:
      "as the processors' `userIdMode`: under `hmac`, email addresses and user-naming fields in stored text become the user's pseudonym; under `none`, they are redacted",
  }),
  hmacKey: inCode(ANALYTICS_OPTIONS.hmacKey, {
    meaning: `key of \`hmac\` (≥ ${MIN_HMAC_KEY_BYTES} bytes; never logged); without it that mode redacts instead`,
  }),
  spoolDir: {
    check: checkNonEmptyString,
    expected: 'a directory path',
    default: undefined,
    doc: { meaning: 'a directory for the durable spool; without it rows Postgres cannot take are dropped' },
  },
  maxSpoolBytes: inCode(ANALYTICS_OPTIONS.maxSpoolBytes),
  statsIntervalMillis: inCode(ANALYTICS_OPTIONS.statsIntervalMillis),
  serviceName: inCode(ANALYTICS_OPTIONS.serviceName, { meaning: '`service_name` of the stats rows' }),
} satisfies OptionSpecs<PostgresSpanExporterConfig>;

/** {@link PostgresSpanExporterConfig} validated, with defaults; frozen. Derived from the specs. */
export type ResolvedPostgresSpanExporterConfig = ResolvedOptions<typeof EXPORTER_OPTIONS>;

/** Validates options passed in code; an invalid one throws a {@link ConfigError} quoting it. */
export function resolvePostgresSpanExporterConfig(
  config: PostgresSpanExporterConfig,
): ResolvedPostgresSpanExporterConfig {
  if (config.connectionString === undefined && config.pool === undefined) {
    throw new ConfigError('PostgresSpanExporter needs a connectionString or a pool');
  }
  const resolved = Object.freeze(resolveOptions(EXPORTER_OPTIONS, config));
  // The pool is made on the first export; a bad sslmode or an unreadable sslrootcert is a
  // mistake in the code's config, so it is refused here, not found at the first write.
  if (resolved.pool === undefined && resolved.connectionString !== undefined) {
    clientConfigOf(resolved.connectionString);
  }
  return resolved;
}

/** A spec of the package's options as the exporter takes it: in code only, without env vars. */
function inCode<S extends { env?: unknown; fallback?: unknown; doc: OptionDoc }>(
  spec: S,
  doc?: OptionDoc,
): Omit<S, 'env' | 'fallback'> {
  const { env: _env, fallback: _fallback, ...rest } = spec;
  return doc === undefined ? rest : { ...rest, doc };
}

/** A pool, or a function (called on the first export) that returns one. */
function checkPool(value: unknown): PostgresPoolLike | (() => PostgresPoolLike) | undefined {
  if (typeof value === 'function') return value as () => PostgresPoolLike;
  const pool = value as PostgresPoolLike | null;
  return typeof pool === 'object' && pool !== null && typeof pool.connect === 'function' ? pool : undefined;
}

/**
 * The exporter's options from the package configuration (env vars, config file), as the
 * register entry and the ingest service both run it. Its shutdown deadline sits inside the
 * outer one, so the exporter can still report what it had to drop.
 */
export function exporterConfigFrom(config: ResolvedAnalyticsConfig): PostgresSpanExporterConfig {
  return {
    ...(config.databaseUrl !== undefined && { connectionString: config.databaseUrl }),
    redactKeys: config.redactKeys,
    userIdMode: config.userIdMode,
    hmacKey: config.hmacKey,
    shutdownTimeoutMillis: Math.max(100, config.shutdownTimeoutMillis - 500),
    ...(config.spoolDir !== false && { spoolDir: config.spoolDir }),
    maxSpoolBytes: config.maxSpoolBytes,
    retryDeadlineMillis: config.retryDeadlineMillis,
    statsIntervalMillis: config.statsIntervalMillis,
    ...(config.serviceName !== undefined && { serviceName: config.serviceName }),
  };
}

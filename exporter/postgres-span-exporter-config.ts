import {
  checkOption,
  DEFAULT_MAX_SPOOL_BYTES,
  DEFAULT_RETRY_DEADLINE_MILLIS,
  DEFAULT_STATS_INTERVAL_MILLIS,
  type ResolvedAnalyticsConfig,
} from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import type { UserIdMode } from '../src/internal/privacy-policy.js';
import { MAX_TIMER_MILLIS } from '../src/internal/max-timer-millis.js';
import { isPostgresUrl } from '../src/internal/postgres-url.js';
import { maskUrlPassword } from '../src/internal/redactor.js';

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

export const DEFAULT_MAX_QUEUE_ROWS = 10_000;
export const DEFAULT_MAX_BATCH_ROWS = 1000;
export const DEFAULT_INITIAL_RETRY_DELAY_MILLIS = 100;
export const DEFAULT_MAX_RETRY_DELAY_MILLIS = 5000;
export const DEFAULT_STATEMENT_TIMEOUT_MILLIS = 15_000;
export const DEFAULT_CONNECTION_TIMEOUT_MILLIS = 5000;
export const DEFAULT_EXPORTER_SHUTDOWN_TIMEOUT_MILLIS = 5000;
export const DEFAULT_MAX_POOL_SIZE = 2;
// Shared with the register entry's options.
export { DEFAULT_MAX_SPOOL_BYTES, DEFAULT_RETRY_DEADLINE_MILLIS, DEFAULT_STATS_INTERVAL_MILLIS };

/** {@link PostgresSpanExporterConfig} validated, with defaults; frozen. */
export type ResolvedPostgresSpanExporterConfig = Readonly<
  Required<
    Omit<PostgresSpanExporterConfig, 'connectionString' | 'pool' | 'spoolDir' | 'serviceName' | 'hmacKey'>
  > &
    Pick<PostgresSpanExporterConfig, 'connectionString' | 'pool' | 'spoolDir' | 'serviceName' | 'hmacKey'>
>;

/** Validates options passed in code; an invalid one throws a {@link ConfigError} quoting it. */
export function resolvePostgresSpanExporterConfig(
  config: PostgresSpanExporterConfig,
): ResolvedPostgresSpanExporterConfig {
  if (config.connectionString === undefined && config.pool === undefined) {
    throw new ConfigError('PostgresSpanExporter needs a connectionString or a pool');
  }
  if (config.connectionString !== undefined) {
    if (!isPostgresUrl(config.connectionString)) {
      throw new ConfigError(
        `Invalid connectionString (expected a postgres:// or postgresql:// URL): ${JSON.stringify(maskUrlPassword(config.connectionString))}`,
      );
    }
  }
  const positive = (
    name: keyof PostgresSpanExporterConfig,
    fallback: number,
    max = MAX_TIMER_MILLIS,
  ): number => {
    const value = config[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > max) {
      throw new ConfigError(`Invalid ${name}: ${JSON.stringify(value)} (expected a positive integer)`);
    }
    return value;
  };
  // Checked as the package configuration checks them, so both accept the same values.
  const redactKeys = checkOption('redactKeys', config.redactKeys ?? []);
  const userIdMode = checkOption('userIdMode', config.userIdMode ?? 'plain');
  if (config.hmacKey !== undefined) checkOption('hmacKey', config.hmacKey);
  for (const name of ['spoolDir', 'serviceName'] as const) {
    const value = config[name];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new ConfigError(`Invalid ${name}: ${JSON.stringify(value)} (expected a non-empty string)`);
    }
  }
  const statsIntervalMillis = config.statsIntervalMillis ?? DEFAULT_STATS_INTERVAL_MILLIS;
  if (
    !Number.isSafeInteger(statsIntervalMillis) ||
    statsIntervalMillis < 0 ||
    statsIntervalMillis > MAX_TIMER_MILLIS
  ) {
    throw new ConfigError(
      `Invalid statsIntervalMillis: ${JSON.stringify(config.statsIntervalMillis)} (expected 0 or a positive integer)`,
    );
  }
  return Object.freeze({
    ...(config.connectionString !== undefined && { connectionString: config.connectionString }),
    ...(config.spoolDir !== undefined && { spoolDir: config.spoolDir }),
    ...(config.serviceName !== undefined && { serviceName: config.serviceName }),
    ...(config.hmacKey !== undefined && { hmacKey: config.hmacKey }),
    userIdMode,
    maxSpoolBytes: positive('maxSpoolBytes', DEFAULT_MAX_SPOOL_BYTES, Number.MAX_SAFE_INTEGER),
    statsIntervalMillis,
    ...(config.pool !== undefined && { pool: config.pool }),
    maxQueueRows: positive('maxQueueRows', DEFAULT_MAX_QUEUE_ROWS),
    maxBatchRows: positive('maxBatchRows', DEFAULT_MAX_BATCH_ROWS),
    retryDeadlineMillis: positive('retryDeadlineMillis', DEFAULT_RETRY_DEADLINE_MILLIS),
    initialRetryDelayMillis: positive('initialRetryDelayMillis', DEFAULT_INITIAL_RETRY_DELAY_MILLIS),
    maxRetryDelayMillis: positive('maxRetryDelayMillis', DEFAULT_MAX_RETRY_DELAY_MILLIS),
    statementTimeoutMillis: positive('statementTimeoutMillis', DEFAULT_STATEMENT_TIMEOUT_MILLIS),
    connectionTimeoutMillis: positive('connectionTimeoutMillis', DEFAULT_CONNECTION_TIMEOUT_MILLIS),
    shutdownTimeoutMillis: positive('shutdownTimeoutMillis', DEFAULT_EXPORTER_SHUTDOWN_TIMEOUT_MILLIS),
    maxPoolSize: positive('maxPoolSize', DEFAULT_MAX_POOL_SIZE),
    redactKeys: [...redactKeys],
  });
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

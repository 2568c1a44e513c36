import { ANALYTICS_OPTIONS, COUNT_MAX_ROW_AGE_MILLIS } from './config/analytics-options.js';
import type { ResolvedOptions } from './config/option-spec.js';
import { resolveOptions } from './config/resolve-options.js';
import type { EnvSnapshot } from './env.js';
import { ConfigError } from './errors.js';
import { createLogger } from './support/diag.js';
import type { IpMode, UserIdMode } from './privacy/privacy-policy.js';
import { MIN_HMAC_KEY_BYTES } from './privacy/pseudonymize.js';
import type { ModelPrice } from './pricing/price-table.js';
import type { ServiceDefinition } from './pricing/service-catalog.js';

/**
 * Which triggers flush a batch to Postgres: `time` only on the schedule, `count` when the
 * threshold is reached (and on shutdown, and at the latest after
 * {@link COUNT_MAX_ROW_AGE_MILLIS}), `hybrid` on whichever comes first.
 */
export type FlushStrategy = 'time' | 'count' | 'hybrid';

/**
 * Options of otel-pg-analytics; each can also come from the config file, most from an env var
 * (docs/configuration.md has the table). The defaults and env vars named here are checked
 * against the option specs (src/config/analytics-options.ts) by a test.
 */
export interface AnalyticsConfig {
  /**
   * Turn everything on or off. Defaults to `true`. Env: `OTEL_SDK_DISABLED=true` turns it off,
   * else `OTEL_ANALYTICS_ENABLED` (alias `ANALYTICS_ENABLED`).
   */
  enabled?: boolean;
  /** Postgres connection string. Env: `OTEL_ANALYTICS_DATABASE_URL`, then `DATABASE_URL`. */
  databaseUrl?: string;
  /** `service.name` of this app (the `service_name` column). Env: `OTEL_SERVICE_NAME`. */
  serviceName?: string;
  /** Defaults to `hybrid`. Env: `OTEL_ANALYTICS_FLUSH_STRATEGY` (alias `ANALYTICS_FLUSH_STRATEGY`). */
  flushStrategy?: FlushStrategy;
  /**
   * Flush interval for `time` and `hybrid`. Defaults to 5000. Env: `OTEL_BSP_SCHEDULE_DELAY`
   * (alias `ANALYTICS_FLUSH_INTERVAL_SECONDS`, in seconds).
   */
  scheduledDelayMillis?: number;
  /**
   * Flush threshold for `count` and `hybrid`. Defaults to 512. Env:
   * `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (alias `ANALYTICS_FLUSH_COUNT_THRESHOLD`).
   */
  maxExportBatchSize?: number;
  /** Spans waiting for a flush; more are dropped and counted. Defaults to 2048. Env: `OTEL_BSP_MAX_QUEUE_SIZE`. */
  maxQueueSize?: number;
  /** Defaults to 30000. Env: `OTEL_BSP_EXPORT_TIMEOUT`. */
  exportTimeoutMillis?: number;
  /**
   * Share of ordinary API rows kept (5xx and slow requests are always kept). Defaults to 1.
   * Env: `OTEL_TRACES_SAMPLER` (alias `ANALYTICS_ENABLE_SAMPLING`).
   */
  sampleRate?: number;
  /** Paths that produce no API row: exact paths, or prefixes ending in `*`. Env: `OTEL_ANALYTICS_EXCLUDED_PATHS`. */
  excludedPaths?: readonly string[];
  /**
   * Requests at least this slow are flagged and never sampled away. Defaults to 1000. Env:
   * `OTEL_ANALYTICS_SLOW_REQUEST_MS`.
   */
  slowRequestMillis?: number;
  /**
   * Extra parameter, header and field names to redact (besides the built-in list). Env:
   * `OTEL_ANALYTICS_REDACT_KEYS`.
   */
  redactKeys?: readonly string[];
  /**
   * Request headers to record in `metadata` (sensitive ones are still redacted). Env:
   * `OTEL_ANALYTICS_CAPTURE_HEADERS`.
   */
  captureHeaders?: readonly string[];
  /** External services, matched before the built-in catalog. */
  services?: readonly ServiceDefinition[];
  /** Model prices, added to (and overriding) the built-in table. */
  modelPrices?: readonly ModelPrice[];
  /** How long a request's finished outbound calls wait for the request to end. Defaults to 30000. */
  requestHoldMillis?: number;
  /** An outbound call still open after this long is recorded as incomplete. Defaults to 300000. */
  maxOpenClientSpanMillis?: number;
  /** Whether the register entry flushes on SIGTERM/SIGINT. Defaults to `true`. Env: `OTEL_ANALYTICS_HANDLE_SIGNALS`. */
  handleSignals?: boolean;
  /** Deadline for the final flush on exit. Defaults to 5000. Env: `OTEL_ANALYTICS_SHUTDOWN_TIMEOUT`. */
  shutdownTimeoutMillis?: number;
  /**
   * Where rows Postgres cannot take wait on disk (replayed when it is back, also after a
   * crash); `false` turns the spool off. When other users can write it (a volume's mount root:
   * an `emptyDir` is `0777`, a volume with an `fsGroup` `2775`), the spool works in its folder
   * `otel-pg-analytics-<euid>`, made `0700`; if another user made that folder first it is
   * refused, with a warning, and the spool is off. Defaults to a per-user directory, made
   * `0700`: `$XDG_STATE_HOME/otel-pg-analytics`, else `~/.local/state/otel-pg-analytics`, else
   * (a home that cannot be written) `<os tmpdir>/otel-pg-analytics-<uid>`. Point it at a
   * persistent volume to survive container restarts. Env: `OTEL_ANALYTICS_SPOOL_DIR` (`off`
   * turns it off).
   */
  spoolDir?: string | false;
  /** Bytes the spool may hold; rows beyond are dropped and counted. Defaults to 256 MiB. */
  maxSpoolBytes?: number;
  /** How long a batch is retried while Postgres is unreachable, before the spool. Defaults to 30000. */
  retryDeadlineMillis?: number;
  /** How often a row of pipeline counters goes to `analytics_pipeline_stats`; `0`: never. Defaults to 60000. */
  statsIntervalMillis?: number;
  /**
   * Proxies believed about the client address (`X-Forwarded-For`, `Forwarded`), as Express's
   * `trust proxy`: a hop count, or addresses, CIDR ranges and `loopback`, `private`,
   * `linklocal`. Defaults to none: the client is the socket peer. Env:
   * `OTEL_ANALYTICS_TRUSTED_PROXIES` (`1`, or `loopback,10.0.0.0/8`).
   */
  trustedProxies?: number | string | readonly string[];
  /**
   * How client addresses are kept: `full`, `truncate` (IPv4 /24, IPv6 /48), `hash` (keyed, needs
   * `hmacKey`) or `none`. Defaults to `full`. Env: `OTEL_ANALYTICS_IP_MODE`.
   */
  ipMode?: IpMode;
  /**
   * How user ids are kept: `plain`, `hmac` (a keyed pseudonym, needs `hmacKey`) or `none`.
   * Defaults to `plain`. Env: `OTEL_ANALYTICS_USER_ID_MODE`.
   */
  userIdMode?: UserIdMode;
  /**
   * Key of the `hash` and `hmac` modes, at least 16 bytes; keep it secret and stable (the same
   * user keeps the same pseudonym only under the same key). Env: `OTEL_ANALYTICS_HMAC_KEY`.
   */
  hmacKey?: string;
  /**
   * Hosts that outbound calls send trace context (`traceparent`, `baggage`) to: exact names or
   * `*.example.com`; `*` for all. Defaults to none, so third-party APIs learn nothing of the
   * app's traces. Env: `OTEL_ANALYTICS_PROPAGATE_HOSTS`.
   */
  propagateHosts?: readonly string[];
}

/** {@link AnalyticsConfig} with every default applied; frozen. Derived from the option specs. */
export type ResolvedAnalyticsConfig = ResolvedOptions<typeof ANALYTICS_OPTIONS>;

/** Where configuration comes from besides code: the env snapshot and the parsed config file. */
export interface ConfigSources {
  env?: EnvSnapshot;
  file?: Record<string, unknown>;
}

const logger = createLogger('config');

/**
 * Merges options from code, env vars and the config file (in that order of precedence) over
 * the defaults. An invalid option in code throws a {@link ConfigError} quoting the value; an
 * invalid env or file value is reported with `diag.warn` and the next source is used.
 *
 * ```ts
 * const config = resolveConfig({ sampleRate: 0.1 }, { env: readEnv() });
 * ```
 */
export function resolveConfig(
  options: AnalyticsConfig = {},
  sources: ConfigSources = {},
): ResolvedAnalyticsConfig {
  for (const key of Object.keys(options)) {
    if (!(key in ANALYTICS_OPTIONS)) throw new ConfigError(`Unknown option ${JSON.stringify(key)}`);
  }
  for (const key of Object.keys(sources.file ?? {})) {
    if (!(key in ANALYTICS_OPTIONS) && key !== '$schema') {
      logger.warn(`Ignoring unknown option ${JSON.stringify(key)} in the config file`);
    }
  }
  const resolved = resolveOptions(ANALYTICS_OPTIONS, options, sources);
  const keyed = resolved.ipMode === 'hash' || resolved.userIdMode === 'hmac';
  if (keyed && resolved.hmacKey === undefined) {
    const message = `ipMode ${JSON.stringify(resolved.ipMode)} and userIdMode ${JSON.stringify(resolved.userIdMode)} need hmacKey (OTEL_ANALYTICS_HMAC_KEY, at least ${MIN_HMAC_KEY_BYTES} bytes)`;
    if (options.ipMode === 'hash' || options.userIdMode === 'hmac') throw new ConfigError(message);
    // Fail closed: storing the plain values the user asked to hide would be worse than none.
    logger.warn(`${message}; without it those addresses and user ids are not recorded`);
    if (resolved.ipMode === 'hash') resolved.ipMode = 'none';
    if (resolved.userIdMode === 'hmac') resolved.userIdMode = 'none';
  }
  return Object.freeze(resolved);
}

/**
 * The BatchSpanProcessor options for a flush strategy: `time` never flushes on size (batch =
 * queue), `count` flushes on size and at the latest after {@link COUNT_MAX_ROW_AGE_MILLIS},
 * `hybrid` does both. `@opentelemetry/sdk-trace` 3.x reads no `OTEL_BSP_*` itself.
 */
export function batchSpanProcessorOptions(config: ResolvedAnalyticsConfig): {
  scheduledDelayMillis: number;
  maxExportBatchSize: number;
  maxQueueSize: number;
  exportTimeoutMillis: number;
} {
  const maxQueueSize = config.maxQueueSize;
  const batch = Math.min(config.maxExportBatchSize, maxQueueSize);
  switch (config.flushStrategy) {
    case 'time':
      return {
        scheduledDelayMillis: config.scheduledDelayMillis,
        maxExportBatchSize: maxQueueSize,
        maxQueueSize,
        exportTimeoutMillis: config.exportTimeoutMillis,
      };
    case 'count':
      return {
        scheduledDelayMillis: COUNT_MAX_ROW_AGE_MILLIS,
        maxExportBatchSize: batch,
        maxQueueSize,
        exportTimeoutMillis: config.exportTimeoutMillis,
      };
    case 'hybrid':
      return {
        scheduledDelayMillis: config.scheduledDelayMillis,
        maxExportBatchSize: batch,
        maxQueueSize,
        exportTimeoutMillis: config.exportTimeoutMillis,
      };
  }
}

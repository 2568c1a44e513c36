import {
  checkBoolean,
  checkNonEmptyString,
  checkNonNegativeNumber,
  checkOneOf,
  checkPositiveInteger,
  checkRate,
  checkStringList,
  checkTimerMillis,
  parseBoolean,
  parseList,
  parseNumber,
} from './config/value-checks.js';
import type { EnvSnapshot } from './env.js';
import { ConfigError } from './errors.js';
import { defaultSpoolDir } from './internal/default-spool-dir.js';
import { createLogger } from './internal/diag.js';
import { MAX_TIMER_MILLIS } from './internal/max-timer-millis.js';
import { isPostgresUrl } from './internal/postgres-url.js';
import type { IpMode, UserIdMode } from './internal/privacy-policy.js';
import { MIN_HMAC_KEY_BYTES } from './internal/pseudonymize.js';
import { checkTrustedProxies, parseTrustedProxies, type TrustedProxies } from './internal/trusted-proxies.js';
import { maskUrlPassword } from './internal/redactor.js';
import { checkModelPrices } from './pricing/check-model-prices.js';
import type { ModelPrice } from './pricing/price-table.js';
import { checkServices } from './pricing/check-services.js';
import type { ServiceDefinition } from './pricing/service-catalog.js';

/**
 * Which triggers flush a batch to Postgres: `time` only on the schedule, `count` when the
 * threshold is reached (and on shutdown, and at the latest after
 * {@link DEFAULT_COUNT_MAX_ROW_AGE_MILLIS}), `hybrid` on whichever comes first.
 */
export type FlushStrategy = 'time' | 'count' | 'hybrid';

/** Options of otel-pg-analytics; every one can also come from an env var or the config file. */
export interface AnalyticsConfig {
  /** Turn everything on or off. Defaults to `true`. Env: `OTEL_ANALYTICS_ENABLED`, `OTEL_SDK_DISABLED`. */
  enabled?: boolean;
  /** Postgres connection string. Env: `OTEL_ANALYTICS_DATABASE_URL`, then `DATABASE_URL`. */
  databaseUrl?: string;
  /** `service.name` of this app (the `service_name` column). Env: `OTEL_SERVICE_NAME`. */
  serviceName?: string;
  /** Defaults to `hybrid`. Env: `OTEL_ANALYTICS_FLUSH_STRATEGY`. */
  flushStrategy?: FlushStrategy;
  /** Flush interval for `time` and `hybrid`. Defaults to 5000. Env: `OTEL_BSP_SCHEDULE_DELAY`. */
  scheduledDelayMillis?: number;
  /** Flush threshold for `count` and `hybrid`. Defaults to 512. Env: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`. */
  maxExportBatchSize?: number;
  /** Spans waiting for a flush; more are dropped and counted. Defaults to 2048. Env: `OTEL_BSP_MAX_QUEUE_SIZE`. */
  maxQueueSize?: number;
  /** Defaults to 30000. Env: `OTEL_BSP_EXPORT_TIMEOUT`. */
  exportTimeoutMillis?: number;
  /** Share of ordinary API rows kept (5xx and slow requests are always kept). Defaults to 1. */
  sampleRate?: number;
  /** Paths that produce no API row: exact paths, or prefixes ending in `*`. */
  excludedPaths?: readonly string[];
  /** Requests at least this slow are flagged and never sampled away. Defaults to 1000. */
  slowRequestMillis?: number;
  /** Extra parameter, header and field names to redact (besides the built-in list). */
  redactKeys?: readonly string[];
  /** Request headers to record in `metadata` (sensitive ones are still redacted). */
  captureHeaders?: readonly string[];
  /** External services, matched before the built-in catalog. */
  services?: readonly ServiceDefinition[];
  /** Model prices, added to (and overriding) the built-in table. */
  modelPrices?: readonly ModelPrice[];
  /** How long a request's finished outbound calls wait for the request to end. Defaults to 30000. */
  requestHoldMillis?: number;
  /** An outbound call still open after this long is recorded as incomplete. Defaults to 300000. */
  maxOpenClientSpanMillis?: number;
  /** Whether the register entry flushes on SIGTERM/SIGINT. Defaults to `true`. */
  handleSignals?: boolean;
  /** Deadline for the final flush on exit. Defaults to 5000. */
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

/** {@link AnalyticsConfig} with every default applied; frozen. */
export interface ResolvedAnalyticsConfig {
  readonly enabled: boolean;
  readonly databaseUrl: string | undefined;
  readonly serviceName: string | undefined;
  readonly flushStrategy: FlushStrategy;
  readonly scheduledDelayMillis: number;
  readonly maxExportBatchSize: number;
  readonly maxQueueSize: number;
  readonly exportTimeoutMillis: number;
  readonly sampleRate: number;
  readonly excludedPaths: readonly string[];
  readonly slowRequestMillis: number;
  readonly redactKeys: readonly string[];
  readonly captureHeaders: readonly string[];
  readonly services: readonly ServiceDefinition[];
  readonly modelPrices: readonly ModelPrice[];
  readonly requestHoldMillis: number;
  readonly maxOpenClientSpanMillis: number;
  readonly handleSignals: boolean;
  readonly shutdownTimeoutMillis: number;
  readonly spoolDir: string | false;
  readonly maxSpoolBytes: number;
  readonly retryDeadlineMillis: number;
  readonly statsIntervalMillis: number;
  readonly trustedProxies: TrustedProxies;
  readonly ipMode: IpMode;
  readonly userIdMode: UserIdMode;
  readonly hmacKey: string | undefined;
  readonly propagateHosts: readonly string[];
}

/** Where configuration comes from besides code: the env snapshot and the parsed config file. */
export interface ConfigSources {
  env?: EnvSnapshot;
  file?: Record<string, unknown>;
}

export const DEFAULT_FLUSH_STRATEGY: FlushStrategy = 'hybrid';
export const DEFAULT_SCHEDULED_DELAY_MILLIS = 5000;
export const DEFAULT_MAX_EXPORT_BATCH_SIZE = 512;
export const DEFAULT_MAX_QUEUE_SIZE = 2048;
export const DEFAULT_EXPORT_TIMEOUT_MILLIS = 30_000;
/** With the `count` strategy a row still reaches Postgres at most this long after it ended. */
export const DEFAULT_COUNT_MAX_ROW_AGE_MILLIS = 300_000;
export const DEFAULT_SAMPLE_RATE = 1;
export const DEFAULT_SLOW_REQUEST_MILLIS = 1000;
export const DEFAULT_REQUEST_HOLD_MILLIS = 30_000;
export const DEFAULT_MAX_OPEN_CLIENT_SPAN_MILLIS = 300_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5000;
export const DEFAULT_MAX_SPOOL_BYTES = 256 * 1024 * 1024;
export const DEFAULT_RETRY_DEADLINE_MILLIS = 30_000;
export const DEFAULT_STATS_INTERVAL_MILLIS = 60_000;

const logger = createLogger('config');

type Key = keyof AnalyticsConfig;
type Value<K extends Key> = Exclude<AnalyticsConfig[K], undefined>;

interface EnvReader<T> {
  /** The variable whose presence selects this reader. */
  name: string;
  /** Parses the raw value (other variables may be consulted); `undefined` means invalid. */
  parse(raw: string, env: EnvSnapshot): T | undefined;
}

interface OptionSpec<K extends Key> {
  /** Validates a value from code or the config file; `undefined` means invalid. */
  check(value: unknown): Value<K> | undefined;
  /** What a valid value looks like, for error messages. */
  expected: string;
  env?: readonly EnvReader<Value<K>>[];
  /** What happens when an env or file value is invalid; defaults to "using the default". */
  fallback?: string;
  /** Shows a value in messages (for example without its password). */
  display?: (value: unknown) => string;
  /** A default that depends on the env, computed only when no source gives a value. */
  defaultFrom?: (env: EnvSnapshot) => Value<K>;
}

type OptionSpecs = { [K in Key]-?: OptionSpec<K> };

const SPECS: OptionSpecs = {
  enabled: { check: checkBoolean, expected: 'a boolean' },
  databaseUrl: {
    check: checkDatabaseUrl,
    expected: 'a postgres:// or postgresql:// URL',
    fallback: 'ignored (without a valid URL, analytics are off)',
    display: (value) => quote(typeof value === 'string' ? maskUrlPassword(value) : value),
    env: [
      { name: 'OTEL_ANALYTICS_DATABASE_URL', parse: checkDatabaseUrl },
      { name: 'DATABASE_URL', parse: checkDatabaseUrl },
    ],
  },
  serviceName: {
    check: checkNonEmptyString,
    expected: 'a non-empty string',
    env: [{ name: 'OTEL_SERVICE_NAME', parse: checkNonEmptyString }],
  },
  flushStrategy: {
    check: checkFlushStrategy,
    expected: "'time', 'count' or 'hybrid'",
    env: [
      { name: 'OTEL_ANALYTICS_FLUSH_STRATEGY', parse: checkFlushStrategy },
      { name: 'ANALYTICS_FLUSH_STRATEGY', parse: checkFlushStrategy },
    ],
  },
  scheduledDelayMillis: {
    check: checkTimerMillis,
    expected: `an integer from 1 to ${MAX_TIMER_MILLIS}`,
    env: [
      { name: 'OTEL_BSP_SCHEDULE_DELAY', parse: (raw) => checkTimerMillis(parseNumber(raw)) },
      {
        name: 'ANALYTICS_FLUSH_INTERVAL_SECONDS',
        parse: (raw) => checkTimerMillis(Math.round(parseNumber(raw) * 1000)),
      },
    ],
  },
  maxExportBatchSize: {
    check: checkPositiveInteger,
    expected: 'a positive integer',
    env: [
      { name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', parse: (raw) => checkPositiveInteger(parseNumber(raw)) },
      { name: 'ANALYTICS_FLUSH_COUNT_THRESHOLD', parse: (raw) => checkPositiveInteger(parseNumber(raw)) },
    ],
  },
  maxQueueSize: {
    check: checkPositiveInteger,
    expected: 'a positive integer',
    env: [{ name: 'OTEL_BSP_MAX_QUEUE_SIZE', parse: (raw) => checkPositiveInteger(parseNumber(raw)) }],
  },
  exportTimeoutMillis: {
    check: checkTimerMillis,
    expected: `an integer from 1 to ${MAX_TIMER_MILLIS}`,
    env: [{ name: 'OTEL_BSP_EXPORT_TIMEOUT', parse: (raw) => checkTimerMillis(parseNumber(raw)) }],
  },
  sampleRate: {
    check: checkRate,
    expected: 'a number from 0 to 1',
    env: [
      { name: 'OTEL_TRACES_SAMPLER', parse: parseOtelSampler },
      { name: 'ANALYTICS_ENABLE_SAMPLING', parse: parseSeedSampling },
    ],
  },
  excludedPaths: {
    check: checkStringList,
    expected: 'an array of paths',
    env: [{ name: 'OTEL_ANALYTICS_EXCLUDED_PATHS', parse: parseList }],
  },
  slowRequestMillis: {
    check: checkNonNegativeNumber,
    expected: 'a non-negative number',
    env: [
      { name: 'OTEL_ANALYTICS_SLOW_REQUEST_MS', parse: (raw) => checkNonNegativeNumber(parseNumber(raw)) },
    ],
  },
  redactKeys: {
    check: checkStringList,
    expected: 'an array of names',
    env: [{ name: 'OTEL_ANALYTICS_REDACT_KEYS', parse: parseList }],
  },
  captureHeaders: {
    check: checkStringList,
    expected: 'an array of header names',
    env: [{ name: 'OTEL_ANALYTICS_CAPTURE_HEADERS', parse: parseList }],
  },
  services: { check: checkServices, expected: 'an array of { name, hosts, ... } service definitions' },
  modelPrices: {
    check: checkModelPrices,
    expected: 'an array of { model, inputPerMillion, outputPerMillion, ... } price rows',
  },
  requestHoldMillis: {
    check: checkTimerMillis,
    expected: `an integer from 1 to ${MAX_TIMER_MILLIS}`,
  },
  maxOpenClientSpanMillis: {
    check: checkTimerMillis,
    expected: `an integer from 1 to ${MAX_TIMER_MILLIS}`,
  },
  handleSignals: {
    check: checkBoolean,
    expected: 'a boolean',
    env: [{ name: 'OTEL_ANALYTICS_HANDLE_SIGNALS', parse: parseBoolean }],
  },
  shutdownTimeoutMillis: {
    check: checkTimerMillis,
    expected: `an integer from 1 to ${MAX_TIMER_MILLIS}`,
    env: [{ name: 'OTEL_ANALYTICS_SHUTDOWN_TIMEOUT', parse: (raw) => checkTimerMillis(parseNumber(raw)) }],
  },
  spoolDir: {
    check: checkSpoolDir,
    expected: 'a directory path, or false',
    env: [{ name: 'OTEL_ANALYTICS_SPOOL_DIR', parse: parseSpoolDir }],
    // This user's own (see AnalyticsConfig.spoolDir); it looks at the home directory.
    defaultFrom: defaultSpoolDir,
  },
  maxSpoolBytes: { check: checkPositiveInteger, expected: 'a positive integer' },
  retryDeadlineMillis: { check: checkTimerMillis, expected: `an integer from 1 to ${MAX_TIMER_MILLIS}` },
  statsIntervalMillis: {
    check: (value) => (value === 0 ? 0 : checkTimerMillis(value)),
    expected: `0, or an integer from 1 to ${MAX_TIMER_MILLIS}`,
  },
  trustedProxies: {
    check: checkTrustedProxies,
    expected: "a hop count, or a list of addresses, CIDR ranges, 'loopback', 'private', 'linklocal'",
    fallback: 'trusting no proxy',
    env: [{ name: 'OTEL_ANALYTICS_TRUSTED_PROXIES', parse: parseTrustedProxies }],
  },
  ipMode: {
    check: (value) => checkOneOf(value, IP_MODES),
    expected: "'full', 'truncate', 'hash' or 'none'",
    env: [{ name: 'OTEL_ANALYTICS_IP_MODE', parse: (raw) => checkOneOf(raw.toLowerCase(), IP_MODES) }],
  },
  userIdMode: {
    check: (value) => checkOneOf(value, USER_ID_MODES),
    expected: "'plain', 'hmac' or 'none'",
    env: [
      { name: 'OTEL_ANALYTICS_USER_ID_MODE', parse: (raw) => checkOneOf(raw.toLowerCase(), USER_ID_MODES) },
    ],
  },
  hmacKey: {
    check: checkHmacKey,
    expected: `a secret of at least ${MIN_HMAC_KEY_BYTES} bytes`,
    display: () => '(hidden)',
    env: [{ name: 'OTEL_ANALYTICS_HMAC_KEY', parse: checkHmacKey }],
  },
  propagateHosts: {
    check: checkHostPatterns,
    expected: "a list of host names, '*.example.com' patterns or '*'",
    fallback: 'sending trace context to no host',
    env: [{ name: 'OTEL_ANALYTICS_PROPAGATE_HOSTS', parse: (raw) => checkHostPatterns(parseList(raw)) }],
  },
};

const IP_MODES: readonly IpMode[] = ['full', 'truncate', 'hash', 'none'];
const USER_ID_MODES: readonly UserIdMode[] = ['plain', 'hmac', 'none'];

const DEFAULTS: { [K in Key]-?: AnalyticsConfig[K] } = {
  enabled: true,
  databaseUrl: undefined,
  serviceName: undefined,
  flushStrategy: DEFAULT_FLUSH_STRATEGY,
  scheduledDelayMillis: DEFAULT_SCHEDULED_DELAY_MILLIS,
  maxExportBatchSize: DEFAULT_MAX_EXPORT_BATCH_SIZE,
  maxQueueSize: DEFAULT_MAX_QUEUE_SIZE,
  exportTimeoutMillis: DEFAULT_EXPORT_TIMEOUT_MILLIS,
  sampleRate: DEFAULT_SAMPLE_RATE,
  excludedPaths: [],
  slowRequestMillis: DEFAULT_SLOW_REQUEST_MILLIS,
  redactKeys: [],
  captureHeaders: [],
  services: [],
  modelPrices: [],
  requestHoldMillis: DEFAULT_REQUEST_HOLD_MILLIS,
  maxOpenClientSpanMillis: DEFAULT_MAX_OPEN_CLIENT_SPAN_MILLIS,
  handleSignals: true,
  shutdownTimeoutMillis: DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
  spoolDir: undefined,
  maxSpoolBytes: DEFAULT_MAX_SPOOL_BYTES,
  retryDeadlineMillis: DEFAULT_RETRY_DEADLINE_MILLIS,
  statsIntervalMillis: DEFAULT_STATS_INTERVAL_MILLIS,
  trustedProxies: [],
  ipMode: 'full',
  userIdMode: 'plain',
  hmacKey: undefined,
  propagateHosts: [],
};

/**
 * Merges options from code, env vars and the config file (in that order of precedence) over
 * the `DEFAULT_*` values. An invalid option in code throws a {@link ConfigError} quoting the
 * value; an invalid env or file value is reported with `diag.warn` and the next source is used.
 *
 * ```ts
 * const config = resolveConfig({ sampleRate: 0.1 }, { env: readEnv() });
 * ```
 */
export function resolveConfig(
  options: AnalyticsConfig = {},
  sources: ConfigSources = {},
): ResolvedAnalyticsConfig {
  const env = sources.env ?? {};
  const file = sources.file ?? {};
  for (const key of Object.keys(options)) {
    if (!(key in SPECS)) throw new ConfigError(`Unknown option ${JSON.stringify(key)}`);
  }
  for (const key of Object.keys(file)) {
    if (!(key in SPECS) && key !== '$schema') {
      logger.warn(`Ignoring unknown option ${JSON.stringify(key)} in the config file`);
    }
  }

  const resolved: Record<string, unknown> = {};
  for (const key of Object.keys(SPECS) as Key[]) {
    const value = resolveOne(key, options, env, file);
    // Lists are copied and frozen, so no resolved config shares an array with another.
    resolved[key] = Array.isArray(value) ? Object.freeze([...(value as readonly unknown[])]) : value;
  }
  const keyed = resolved.ipMode === 'hash' || resolved.userIdMode === 'hmac';
  if (keyed && resolved.hmacKey === undefined) {
    const message = `ipMode ${JSON.stringify(resolved.ipMode)} and userIdMode ${JSON.stringify(resolved.userIdMode)} need hmacKey (OTEL_ANALYTICS_HMAC_KEY, at least ${MIN_HMAC_KEY_BYTES} bytes)`;
    if (options.ipMode === 'hash' || options.userIdMode === 'hmac') throw new ConfigError(message);
    // Fail closed: storing the plain values the user asked to hide would be worse than none.
    logger.warn(`${message}; without it those addresses and user ids are not recorded`);
    if (resolved.ipMode === 'hash') resolved.ipMode = 'none';
    if (resolved.userIdMode === 'hmac') resolved.userIdMode = 'none';
  }
  if (options.enabled === undefined) {
    const fromEnv = enabledFromEnv(env);
    if (fromEnv !== undefined) resolved.enabled = fromEnv;
  }
  return Object.freeze(resolved) as unknown as ResolvedAnalyticsConfig;
}

function resolveOne<K extends Key>(
  name: K,
  options: AnalyticsConfig,
  env: EnvSnapshot,
  file: Record<string, unknown>,
): AnalyticsConfig[K] {
  const spec = SPECS[name] as OptionSpec<K>;
  const show = spec.display ?? quote;
  const fallback = spec.fallback ?? 'using the default';
  const fromCode = options[name];
  if (fromCode !== undefined) return checkOption(name, fromCode);
  for (const reader of spec.env ?? []) {
    const raw = env[reader.name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = reader.parse(raw.trim(), env);
    if (value !== undefined) return value;
    logger.warn(`Invalid ${reader.name}=${show(raw)} (expected ${spec.expected}); ${fallback}`);
  }
  if (file[name] !== undefined) {
    const value = spec.check(file[name]);
    if (value !== undefined) return value;
    logger.warn(
      `Invalid ${name} in the config file: ${show(file[name])} (expected ${spec.expected}); ${fallback}`,
    );
  }
  return spec.defaultFrom ? spec.defaultFrom(env) : DEFAULTS[name];
}

/**
 * One option as given in code, checked as {@link resolveConfig} checks it, for the pieces that
 * take some of these options themselves (the exporter): returns the value, or throws a
 * {@link ConfigError} quoting it.
 */
export function checkOption<K extends Key>(name: K, value: unknown): Value<K> {
  const spec = SPECS[name] as OptionSpec<K>;
  const checked = spec.check(value);
  if (checked === undefined) {
    throw new ConfigError(`Invalid ${name}: ${(spec.display ?? quote)(value)} (expected ${spec.expected})`);
  }
  return checked;
}

/** Either `OTEL_SDK_DISABLED=true` or `OTEL_ANALYTICS_ENABLED=false` turns everything off. */
function enabledFromEnv(env: EnvSnapshot): boolean | undefined {
  if (readEnvBoolean(env, 'OTEL_SDK_DISABLED') === true) return false;
  return readEnvBoolean(env, 'OTEL_ANALYTICS_ENABLED') ?? readEnvBoolean(env, 'ANALYTICS_ENABLED');
}

function readEnvBoolean(env: EnvSnapshot, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = parseBoolean(raw.trim());
  if (value === undefined) logger.warn(`Invalid ${name}=${quote(raw)} (expected true or false); ignored`);
  return value;
}

/**
 * The BatchSpanProcessor options for a flush strategy: `time` never flushes on size (batch =
 * queue), `count` flushes on size and at the latest after {@link DEFAULT_COUNT_MAX_ROW_AGE_MILLIS},
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
        scheduledDelayMillis: DEFAULT_COUNT_MAX_ROW_AGE_MILLIS,
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

function quote(value: unknown): string {
  try {
    // JSON would show NaN and Infinity as null, which is not what the user wrote.
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}

function checkHmacKey(value: unknown): string | undefined {
  return typeof value === 'string' && Buffer.byteLength(value) >= MIN_HMAC_KEY_BYTES ? value : undefined;
}

/** Host patterns: `api.internal`, `*.svc.cluster.local`, `*`; lower-cased. */
function checkHostPatterns(value: unknown): string[] | undefined {
  const list = checkStringList(value);
  if (list === undefined) return undefined;
  const patterns = list.map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);
  return patterns.every((h) => /^(\*|(\*\.)?[a-z0-9_.:[\]-]+)$/.test(h)) ? patterns : undefined;
}

function checkSpoolDir(value: unknown): string | false | undefined {
  if (value === false) return false;
  return checkNonEmptyString(value);
}

function parseSpoolDir(raw: string): string | false | undefined {
  return /^(off|false|none|0)$/i.test(raw) ? false : checkNonEmptyString(raw);
}

/** A ratio sampler's argument is the share of API rows kept; spans are still all recorded. */
function parseOtelSampler(raw: string, env: EnvSnapshot): number | undefined {
  switch (raw.toLowerCase()) {
    case 'always_on':
    case 'parentbased_always_on':
      return 1;
    case 'always_off':
    case 'parentbased_always_off':
      return 0;
    case 'traceidratio':
    case 'parentbased_traceidratio': {
      const arg = env.OTEL_TRACES_SAMPLER_ARG;
      if (arg === undefined || arg.trim() === '') return 1;
      return checkRate(parseNumber(arg));
    }
    default:
      return undefined;
  }
}

function parseSeedSampling(raw: string, env: EnvSnapshot): number | undefined {
  const enabled = parseBoolean(raw);
  if (enabled === undefined) return undefined;
  if (!enabled) return 1;
  const rate = env.ANALYTICS_SAMPLING_RATE;
  return rate === undefined || rate.trim() === '' ? 1 : checkRate(parseNumber(rate));
}

function checkDatabaseUrl(value: unknown): string | undefined {
  return isPostgresUrl(value) ? value.trim() : undefined;
}

function checkFlushStrategy(value: unknown): FlushStrategy | undefined {
  return value === 'time' || value === 'count' || value === 'hybrid' ? value : undefined;
}

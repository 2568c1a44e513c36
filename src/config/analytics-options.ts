import type { AnalyticsConfig, FlushStrategy } from '../config.js';
import type { EnvSnapshot } from '../env.js';
import { defaultSpoolDir } from '../support/default-spool-dir.js';
import { MAX_TIMER_MILLIS } from '../support/max-timer-millis.js';
import { isPostgresUrl } from '../support/postgres-url.js';
import type { IpMode, UserIdMode } from '../privacy/privacy-policy.js';
import { MIN_HMAC_KEY_BYTES } from '../privacy/pseudonymize.js';
import { maskUrlPassword } from '../privacy/redactor.js';
import { checkTrustedProxies, parseTrustedProxies } from '../privacy/trusted-proxies.js';
import { checkModelPrices } from '../pricing/check-model-prices.js';
import { checkServices } from '../pricing/check-services.js';
import type { EnvReader, OptionSpecs } from './option-spec.js';
import { quote } from './resolve-options.js';
import {
  BOOLEAN,
  checkNonEmptyString,
  checkOneOf,
  checkRate,
  checkStringList,
  checkTimerMillis,
  NON_EMPTY_STRING,
  NON_NEGATIVE_NUMBER,
  parseBoolean,
  parseList,
  parseNumber,
  POSITIVE_INTEGER,
  TIMER_MILLIS,
  type ValueKind,
} from './value-checks.js';

/** With the `count` strategy a row still reaches Postgres at most this long after it ended. */
export const COUNT_MAX_ROW_AGE_MILLIS = 300_000;

const IP_MODES: readonly IpMode[] = ['full', 'truncate', 'hash', 'none'];
const USER_ID_MODES: readonly UserIdMode[] = ['plain', 'hmac', 'none'];
const FLUSH_STRATEGIES: readonly FlushStrategy[] = ['time', 'count', 'hybrid'];

/**
 * The options of {@link AnalyticsConfig}, one spec each: type (what `check` returns), default,
 * env vars, validation and the line docs/configuration.md shows. `resolveConfig`,
 * `ResolvedAnalyticsConfig`, `readEnv` and that table are derived from it; the `satisfies`
 * keeps it in step with the hand-written (documented) `AnalyticsConfig`.
 */
export const ANALYTICS_OPTIONS = {
  enabled: {
    ...BOOLEAN,
    default: true,
    fallback: 'ignored',
    env: [
      {
        name: 'OTEL_SDK_DISABLED',
        // `true` turns everything off; `false` leaves the decision to the next variables.
        parse: (raw) => {
          const disabled = parseBoolean(raw);
          return disabled === undefined ? undefined : disabled ? false : null;
        },
        expected: 'true or false',
        doc: '(`true` turns it off)',
      },
      booleanEnv('OTEL_ANALYTICS_ENABLED'),
      booleanEnv('ANALYTICS_ENABLED'),
    ],
    doc: { meaning: 'turn everything on or off' },
  },
  databaseUrl: {
    check: checkDatabaseUrl,
    expected: 'a postgres:// or postgresql:// URL',
    default: undefined,
    fallback: 'ignored (without a valid URL, analytics are off)',
    display: (value) => quote(typeof value === 'string' ? maskUrlPassword(value) : value),
    env: [
      { name: 'OTEL_ANALYTICS_DATABASE_URL', parse: checkDatabaseUrl },
      { name: 'DATABASE_URL', parse: checkDatabaseUrl },
    ],
    doc: { meaning: 'Postgres connection string', default: '(off without one)' },
  },
  serviceName: {
    ...NON_EMPTY_STRING,
    default: undefined,
    env: [{ name: 'OTEL_SERVICE_NAME', parse: checkNonEmptyString }],
    doc: { meaning: 'the `service_name` column', default: '`unknown_service:node`' },
  },
  flushStrategy: {
    check: (value) => checkOneOf(value, FLUSH_STRATEGIES),
    expected: "'time', 'count' or 'hybrid'",
    default: 'hybrid',
    env: [
      { name: 'OTEL_ANALYTICS_FLUSH_STRATEGY', parse: (raw) => checkOneOf(raw, FLUSH_STRATEGIES) },
      { name: 'ANALYTICS_FLUSH_STRATEGY', parse: (raw) => checkOneOf(raw, FLUSH_STRATEGIES) },
    ],
    doc: {
      meaning: `\`time\` (only on schedule), \`count\` (on the threshold, and at the latest every ${COUNT_MAX_ROW_AGE_MILLIS / 60_000} minutes), \`hybrid\` (whichever comes first)`,
    },
  },
  scheduledDelayMillis: {
    ...TIMER_MILLIS,
    default: 5000,
    env: [
      { name: 'OTEL_BSP_SCHEDULE_DELAY', parse: numberEnv(checkTimerMillis), doc: '(ms)' },
      {
        name: 'ANALYTICS_FLUSH_INTERVAL_SECONDS',
        parse: (raw) => checkTimerMillis(Math.round(parseNumber(raw) * 1000)),
        doc: '(s)',
      },
    ],
    doc: { meaning: 'flush interval of `time` and `hybrid`' },
  },
  maxExportBatchSize: {
    ...POSITIVE_INTEGER,
    default: 512,
    env: [
      { name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', parse: numberEnv(POSITIVE_INTEGER.check) },
      { name: 'ANALYTICS_FLUSH_COUNT_THRESHOLD', parse: numberEnv(POSITIVE_INTEGER.check) },
    ],
    doc: { meaning: 'flush threshold of `count` and `hybrid`' },
  },
  maxQueueSize: {
    ...POSITIVE_INTEGER,
    default: 2048,
    env: [{ name: 'OTEL_BSP_MAX_QUEUE_SIZE', parse: numberEnv(POSITIVE_INTEGER.check) }],
    doc: { meaning: 'spans waiting for a flush (more are dropped and counted)' },
  },
  exportTimeoutMillis: {
    ...TIMER_MILLIS,
    default: 30_000,
    env: [{ name: 'OTEL_BSP_EXPORT_TIMEOUT', parse: numberEnv(checkTimerMillis), doc: '(ms)' }],
    doc: { meaning: 'export timeout' },
  },
  sampleRate: {
    check: checkRate,
    expected: 'a number from 0 to 1',
    default: 1,
    env: [
      {
        name: 'OTEL_TRACES_SAMPLER',
        parse: parseOtelSampler,
        alsoReads: ['OTEL_TRACES_SAMPLER_ARG'],
        doc: '(`traceidratio` + `OTEL_TRACES_SAMPLER_ARG`)',
      },
      {
        name: 'ANALYTICS_ENABLE_SAMPLING',
        parse: parseSeedSampling,
        alsoReads: ['ANALYTICS_SAMPLING_RATE'],
        doc: '(+ `ANALYTICS_SAMPLING_RATE`)',
      },
    ],
    doc: {
      meaning:
        'share of ordinary API rows kept; 5xx, slow requests, auth events and external calls are always kept; `sum(sample_weight)` estimates true counts',
    },
  },
  excludedPaths: {
    check: checkStringList,
    expected: 'an array of paths',
    default: [],
    env: [{ name: 'OTEL_ANALYTICS_EXCLUDED_PATHS', parse: parseList, doc: '(comma list)' }],
    doc: {
      meaning:
        'exact paths or prefixes ending in `*`: no API row (auth events and calls made while serving them are still recorded)',
    },
  },
  slowRequestMillis: {
    ...NON_NEGATIVE_NUMBER,
    default: 1000,
    env: [{ name: 'OTEL_ANALYTICS_SLOW_REQUEST_MS', parse: numberEnv(NON_NEGATIVE_NUMBER.check) }],
    doc: { meaning: 'slower requests are flagged (`metadata.slow`) and never sampled away' },
  },
  redactKeys: {
    check: checkStringList,
    expected: 'an array of names',
    default: [],
    env: [{ name: 'OTEL_ANALYTICS_REDACT_KEYS', parse: parseList, doc: '(comma list)' }],
    doc: { meaning: 'extra sensitive parameter, header and field names to redact' },
  },
  captureHeaders: {
    check: checkStringList,
    expected: 'an array of header names',
    default: [],
    env: [{ name: 'OTEL_ANALYTICS_CAPTURE_HEADERS', parse: parseList, doc: '(comma list)' }],
    doc: { meaning: 'request headers to keep in `metadata.headers` (sensitive ones redacted)' },
  },
  services: {
    check: checkServices,
    expected: 'an array of { name, hosts, ... } service definitions',
    default: [],
    doc: {
      meaning:
        'external services, matched before the built-in catalog (see [External calls and cost](external-calls-and-cost.md))',
    },
  },
  modelPrices: {
    check: checkModelPrices,
    expected: 'an array of { model, inputPerMillion, outputPerMillion, ... } price rows',
    default: [],
    doc: { meaning: 'model prices, added to (and overriding) the built-in table' },
  },
  requestHoldMillis: {
    ...TIMER_MILLIS,
    default: 30_000,
    doc: { meaning: "how long a request's finished outbound calls wait for the request to end" },
  },
  maxOpenClientSpanMillis: {
    ...TIMER_MILLIS,
    default: 300_000,
    doc: { meaning: 'an outbound call still open after this long is recorded, marked `metadata.incomplete`' },
  },
  handleSignals: {
    ...BOOLEAN,
    default: true,
    env: [booleanEnv('OTEL_ANALYTICS_HANDLE_SIGNALS')],
    doc: { meaning: 'whether the register entry flushes on SIGTERM/SIGINT' },
  },
  shutdownTimeoutMillis: {
    ...TIMER_MILLIS,
    default: 5000,
    env: [{ name: 'OTEL_ANALYTICS_SHUTDOWN_TIMEOUT', parse: numberEnv(checkTimerMillis), doc: '(ms)' }],
    doc: { meaning: 'deadline of the final flush on exit' },
  },
  spoolDir: {
    check: (value) => (value === false ? false : checkNonEmptyString(value)),
    expected: 'a directory path, or false',
    env: [{ name: 'OTEL_ANALYTICS_SPOOL_DIR', parse: parseSpoolDir }],
    // This user's own (see AnalyticsConfig.spoolDir); it looks at the home directory.
    defaultFrom: defaultSpoolDir,
    defaultReads: ['XDG_STATE_HOME', 'HOME'],
    doc: {
      meaning:
        "where rows wait on disk while Postgres is away (`off`: nowhere, they are dropped and counted); where other users can write (a volume's mount root), in a folder of its own there, `otel-pg-analytics-<uid>`",
      default:
        '`~/.local/state/otel-pg-analytics` (see [the spool](operations.md#outages-the-spool-and-pipeline-health))',
    },
  },
  maxSpoolBytes: {
    ...POSITIVE_INTEGER,
    default: 256 * 1024 * 1024,
    doc: { meaning: 'bytes the spool may hold; rows beyond are dropped and counted', default: '256 MiB' },
  },
  retryDeadlineMillis: {
    ...TIMER_MILLIS,
    default: 30_000,
    doc: { meaning: 'how long a batch is retried while Postgres is unreachable, before the spool' },
  },
  statsIntervalMillis: {
    check: (value) => (value === 0 ? 0 : checkTimerMillis(value)),
    expected: `0, or an integer from 1 to ${MAX_TIMER_MILLIS}`,
    default: 60_000,
    doc: { meaning: 'how often a row of pipeline counters goes to `analytics_pipeline_stats`; `0`: never' },
  },
  trustedProxies: {
    check: checkTrustedProxies,
    expected: "a hop count, or a list of addresses, CIDR ranges, 'loopback', 'private', 'linklocal'",
    default: [],
    fallback: 'trusting no proxy',
    env: [{ name: 'OTEL_ANALYTICS_TRUSTED_PROXIES', parse: parseTrustedProxies }],
    doc: {
      meaning:
        'proxies believed about the client address: a hop count (`1`), or addresses, CIDR ranges and `loopback`, `private`, `linklocal` (comma list)',
    },
  },
  ipMode: {
    check: (value) => checkOneOf(value, IP_MODES),
    expected: "'full', 'truncate', 'hash' or 'none'",
    default: 'full',
    env: [{ name: 'OTEL_ANALYTICS_IP_MODE', parse: (raw) => checkOneOf(raw.toLowerCase(), IP_MODES) }],
    doc: { meaning: '`full`, `truncate` (IPv4 /24, IPv6 /48), `hash` (keyed), `none`' },
  },
  userIdMode: {
    check: (value) => checkOneOf(value, USER_ID_MODES),
    expected: "'plain', 'hmac' or 'none'",
    default: 'plain',
    env: [
      { name: 'OTEL_ANALYTICS_USER_ID_MODE', parse: (raw) => checkOneOf(raw.toLowerCase(), USER_ID_MODES) },
    ],
    doc: { meaning: '`plain`, `hmac` (keyed pseudonym `u_…`, in `enduser.pseudo.id`), `none`' },
  },
  hmacKey: {
    check: checkHmacKey,
    expected: `a secret of at least ${MIN_HMAC_KEY_BYTES} bytes`,
    default: undefined,
    display: () => '(hidden)',
    env: [{ name: 'OTEL_ANALYTICS_HMAC_KEY', parse: checkHmacKey }],
    doc: {
      meaning: `key of \`hash\` and \`hmac\` (≥ ${MIN_HMAC_KEY_BYTES} bytes; never logged). Without it those modes store nothing`,
    },
  },
  propagateHosts: {
    check: checkHostPatterns,
    expected: "a list of host names, '*.example.com' patterns or '*'",
    default: [],
    fallback: 'sending trace context to no host',
    env: [{ name: 'OTEL_ANALYTICS_PROPAGATE_HOSTS', parse: (raw) => checkHostPatterns(parseList(raw)) }],
    doc: { meaning: 'hosts outbound calls send `traceparent`/`baggage` to: names, `*.example.com`, or `*`' },
  },
} satisfies OptionSpecs<AnalyticsConfig>;

/** A boolean env var: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`. */
function booleanEnv(name: string): EnvReader<boolean> {
  return { name, parse: parseBoolean, expected: 'true or false' };
}

/** An env var holding a number, checked as the same option in code. */
function numberEnv(check: ValueKind<number>['check']): (raw: string) => number | undefined {
  return (raw) => check(parseNumber(raw));
}

function checkDatabaseUrl(value: unknown): string | undefined {
  return isPostgresUrl(value) ? value.trim() : undefined;
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

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { COUNT_MAX_ROW_AGE_MILLIS } from '../../src/config/analytics-options.js';
import { batchSpanProcessorOptions, resolveConfig, type AnalyticsConfig } from '../../src/config.js';
import { readEnv } from '../../src/env.js';
import { AnalyticsError, ConfigError } from '../../src/errors.js';
import { defaultSpoolDir } from '../../src/support/default-spool-dir.js';

/** Warnings reported through `diag` while a test runs. */
let warnings: string[] = [];
let stopCapture: () => void = () => {};

beforeEach(() => {
  ({ warnings, stop: stopCapture } = captureDiagWarnings());
});

afterEach(() => {
  stopCapture();
});

/** The error `fn` throws, so its fields can be checked. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('resolveConfig defaults', () => {
  it('applies the promised defaults when nothing is given', () => {
    expect(resolveConfig()).toEqual({
      enabled: true,
      databaseUrl: undefined,
      serviceName: undefined,
      flushStrategy: 'hybrid',
      scheduledDelayMillis: 5000,
      maxExportBatchSize: 512,
      maxQueueSize: 2048,
      exportTimeoutMillis: 30_000,
      sampleRate: 1,
      excludedPaths: [],
      slowRequestMillis: 1000,
      redactKeys: [],
      captureHeaders: [],
      services: [],
      modelPrices: [],
      requestHoldMillis: 30_000,
      maxOpenClientSpanMillis: 300_000,
      handleSignals: true,
      shutdownTimeoutMillis: 5000,
      spoolDir: defaultSpoolDir({}),
      maxSpoolBytes: 256 * 1024 * 1024,
      retryDeadlineMillis: 30_000,
      statsIntervalMillis: 60_000,
      trustedProxies: [],
      ipMode: 'full',
      userIdMode: 'plain',
      hmacKey: undefined,
      propagateHosts: [],
    });
    expect(warnings).toEqual([]);
  });

  it('takes the spool directory from OTEL_ANALYTICS_SPOOL_DIR, and turns the spool off with "off"', () => {
    expect(resolveConfig({}, { env: { OTEL_ANALYTICS_SPOOL_DIR: '/var/spool/app' } }).spoolDir).toBe(
      '/var/spool/app',
    );
    expect(resolveConfig({}, { env: { OTEL_ANALYTICS_SPOOL_DIR: 'off' } }).spoolDir).toBe(false);
    expect(resolveConfig({ spoolDir: false }).spoolDir).toBe(false);
    expect(() => resolveConfig({ spoolDir: '' })).toThrow(/Invalid spoolDir: ""/);
    expect(() => resolveConfig({ statsIntervalMillis: -1 })).toThrow(/Invalid statsIntervalMillis: -1/);
    expect(() => resolveConfig({ trustedProxies: ['10.0.0.0/40'] })).toThrow(
      /Invalid trustedProxies: \["10.0.0.0\/40"\]/,
    );
    expect(() => resolveConfig({ ipMode: 'masked' as never })).toThrow(/Invalid ipMode: "masked"/);
    expect(() => resolveConfig({ hmacKey: 'short' })).toThrow(/Invalid hmacKey: \(hidden\)/);
    expect(() => resolveConfig({ userIdMode: 'hmac' })).toThrow(/need hmacKey/);
    expect(() => resolveConfig({ propagateHosts: ['https://x/'] })).toThrow(/Invalid propagateHosts/);
    expect(resolveConfig({ statsIntervalMillis: 0 }).statsIntervalMillis).toBe(0);
  });

  it('computes the default spool directory from the env snapshot it resolves, not from the process env', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'pga-config-home-'));
    try {
      expect(resolveConfig({}, { env: { XDG_STATE_HOME: '/srv/state', HOME: home } }).spoolDir).toBe(
        '/srv/state/otel-pg-analytics',
      );
      expect(resolveConfig({}, { env: { HOME: home } }).spoolDir).toBe(
        path.join(home, '.local', 'state', 'otel-pg-analytics'),
      );
      expect(resolveConfig({}, { env: readEnv({ HOME: home, XDG_STATE_HOME: '/srv/state' }) }).spoolDir).toBe(
        '/srv/state/otel-pg-analytics',
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('does no filesystem work for the default spool directory when the package is imported (the build)', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'pga-import-home-'));
    try {
      const index = pathToFileURL(path.join(import.meta.dirname, '..', '..', 'dist', 'src', 'index.js')).href;
      const script = `
        import fs from 'node:fs';
        import { syncBuiltinESMExports } from 'node:module';
        const touched = [];
        for (const name of ['statSync', 'lstatSync', 'accessSync', 'existsSync', 'readdirSync', 'mkdirSync']) {
          const real = fs[name];
          fs[name] = (...args) => (touched.push(name + ' ' + String(args[0])), real(...args));
        }
        syncBuiltinESMExports();
        await import(${JSON.stringify(index)});
        console.log(JSON.stringify(touched));
      `;
      const touched = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: home },
        }),
      ) as string[];
      expect(touched.filter((call) => call.includes(home) || call.includes('otel-pg-analytics'))).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('returns a frozen config', () => {
    const config = resolveConfig({ sampleRate: 0.5 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { sampleRate: number }).sampleRate = 1;
    }).toThrow(TypeError);
    expect(config.sampleRate).toBe(0.5);
  });

  it('does not let a change to one config’s default list leak into the next', () => {
    const first = resolveConfig();
    const list = first.excludedPaths as string[];
    try {
      list.push('/leaked');
    } catch {
      // A frozen list refuses the change, which is just as good.
    }
    try {
      expect(resolveConfig().excludedPaths).toEqual([]);
    } finally {
      // Undo the change so a shared default cannot disturb the other tests.
      if (!Object.isFrozen(list) && list.at(-1) === '/leaked') list.pop();
    }
  });
});

describe('resolveConfig precedence', () => {
  it('prefers code options over env vars', () => {
    const config = resolveConfig(
      { sampleRate: 0.2, flushStrategy: 'time', scheduledDelayMillis: 1234 },
      {
        env: {
          OTEL_TRACES_SAMPLER: 'traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.5',
          OTEL_ANALYTICS_FLUSH_STRATEGY: 'count',
          OTEL_BSP_SCHEDULE_DELAY: '9999',
        },
      },
    );
    expect(config.sampleRate).toBe(0.2);
    expect(config.flushStrategy).toBe('time');
    expect(config.scheduledDelayMillis).toBe(1234);
  });

  it('prefers env vars over the config file', () => {
    const config = resolveConfig(
      {},
      {
        env: { OTEL_BSP_SCHEDULE_DELAY: '1000', OTEL_SERVICE_NAME: 'from-env' },
        file: { scheduledDelayMillis: 2000, serviceName: 'from-file' },
      },
    );
    expect(config.scheduledDelayMillis).toBe(1000);
    expect(config.serviceName).toBe('from-env');
  });

  it('prefers the config file over the defaults', () => {
    const config = resolveConfig({}, { file: { scheduledDelayMillis: 2000, excludedPaths: ['/health'] } });
    expect(config.scheduledDelayMillis).toBe(2000);
    expect(config.excludedPaths).toEqual(['/health']);
  });

  it('prefers code over the config file', () => {
    expect(resolveConfig({ maxQueueSize: 10 }, { file: { maxQueueSize: 20 } }).maxQueueSize).toBe(10);
  });

  it('treats an option set to undefined in code as not given', () => {
    const config = resolveConfig({ sampleRate: undefined }, { env: { OTEL_TRACES_SAMPLER: 'always_off' } });
    expect(config.sampleRate).toBe(0);
  });

  it('lets enabled from env override enabled from the config file', () => {
    expect(
      resolveConfig({}, { env: { OTEL_ANALYTICS_ENABLED: 'true' }, file: { enabled: false } }).enabled,
    ).toBe(true);
    expect(resolveConfig({}, { file: { enabled: false } }).enabled).toBe(false);
  });

  it('lets enabled in code override the env', () => {
    expect(resolveConfig({ enabled: true }, { env: { OTEL_SDK_DISABLED: 'true' } }).enabled).toBe(true);
  });
});

describe('resolveConfig with invalid code options', () => {
  it.each<[keyof AnalyticsConfig, unknown, string]>([
    ['sampleRate', 2, '2'],
    ['sampleRate', Number.NaN, 'NaN'],
    ['flushStrategy', 'sometimes', '"sometimes"'],
    ['scheduledDelayMillis', 0, '0'],
    ['scheduledDelayMillis', 2 ** 31, String(2 ** 31)],
    ['maxExportBatchSize', 1.5, '1.5'],
    ['maxQueueSize', -1, '-1'],
    ['enabled', 'yes', '"yes"'],
    ['databaseUrl', 'mysql://localhost/db', '"mysql://localhost/db"'],
    ['databaseUrl', 'not a url', '"not a url"'],
    ['serviceName', '   ', '"   "'],
    ['excludedPaths', '/health', '"/health"'],
    ['excludedPaths', ['/ok', 42], '["/ok",42]'],
    ['slowRequestMillis', Number.POSITIVE_INFINITY, 'Infinity'],
    ['services', [{ name: 'x', hosts: [] }], '[{"name":"x","hosts":[]}]'],
    ['services', [{ name: 'x', hosts: ['h'], pathPattern: 'v1/*' }], '"v1/*"'],
    ['services', [{ name: 'x', hosts: ['h'], methods: 'GET' }], '"methods":"GET"'],
    ['modelPrices', [{ model: 'm', inputPerMillion: -1, outputPerMillion: 1 }], '"inputPerMillion":-1'],
    [
      'modelPrices',
      [{ model: 'm', inputPerMillion: 1, outputPerMillion: 1, effectiveFrom: 'soon' }],
      '"soon"',
    ],
  ])('throws a ConfigError for %s = %s, quoting it as %s', (name, value, quoted) => {
    const error = thrown(() => resolveConfig({ [name]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(AnalyticsError);
    const { message, code } = error as ConfigError;
    expect(code).toBe('ERR_OTEL_PG_ANALYTICS_INVALID_CONFIG');
    expect(message).toContain(name);
    expect(message).toContain(quoted);
  });

  it('throws a ConfigError for an unknown option, naming it', () => {
    const error = thrown(() => resolveConfig({ sampelRate: 0.5 } as unknown as AnalyticsConfig));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('"sampelRate"');
  });

  it('shortens a huge quoted value in the message', () => {
    const error = thrown(() =>
      resolveConfig({ flushStrategy: 'x'.repeat(10_000) } as unknown as AnalyticsConfig),
    );
    expect((error as Error).message.length).toBeLessThan(500);
  });

  it('accepts valid values of every kind', () => {
    const config = resolveConfig({
      enabled: false,
      databaseUrl: ' postgresql://u:p@localhost:5432/db ',
      serviceName: ' shop ',
      flushStrategy: 'count',
      sampleRate: 0,
      excludedPaths: [' /health '],
      services: [{ name: 'mock', hosts: ['127.0.0.1:4010'], perRequestUsd: 0.01 }],
      modelPrices: [{ model: 'm', inputPerMillion: 1, outputPerMillion: 2, effectiveFrom: '2025-01-01' }],
    });
    expect(config.enabled).toBe(false);
    expect(config.databaseUrl).toBe('postgresql://u:p@localhost:5432/db');
    expect(config.serviceName).toBe('shop');
    expect(config.flushStrategy).toBe('count');
    expect(config.sampleRate).toBe(0);
    expect(config.excludedPaths).toEqual(['/health']);
    expect(config.services).toEqual([{ name: 'mock', hosts: ['127.0.0.1:4010'], perRequestUsd: 0.01 }]);
    expect(config.modelPrices).toHaveLength(1);
  });
});

describe('resolveConfig with invalid env and file values', () => {
  it('warns about an invalid env value, quoting it, and falls back to the default', () => {
    const config = resolveConfig({}, { env: { OTEL_BSP_SCHEDULE_DELAY: 'soon' } });
    expect(config.scheduledDelayMillis).toBe(5000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OTEL_BSP_SCHEDULE_DELAY');
    expect(warnings[0]).toContain('"soon"');
  });

  it.each([
    ['OTEL_BSP_SCHEDULE_DELAY', '0', 'scheduledDelayMillis'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '-5', 'maxQueueSize'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '1.5', 'maxExportBatchSize'],
    ['OTEL_BSP_EXPORT_TIMEOUT', String(2 ** 31), 'exportTimeoutMillis'],
    ['OTEL_ANALYTICS_FLUSH_STRATEGY', 'often', 'flushStrategy'],
    ['OTEL_ANALYTICS_SLOW_REQUEST_MS', '-1', 'slowRequestMillis'],
    ['OTEL_ANALYTICS_HANDLE_SIGNALS', 'perhaps', 'handleSignals'],
    ['OTEL_TRACES_SAMPLER', 'jaeger_remote', 'sampleRate'],
  ] as const)('warns about %s=%j and keeps the default', (name, raw, option) => {
    const config = resolveConfig({}, { env: { [name]: raw } });
    expect(config[option]).toEqual(resolveConfig()[option]);
    expect(warnings.some((w) => w.includes(name))).toBe(true);
  });

  it('ignores empty and blank env values without a warning', () => {
    const config = resolveConfig({}, { env: { OTEL_BSP_SCHEDULE_DELAY: '', OTEL_SERVICE_NAME: '   ' } });
    expect(config.scheduledDelayMillis).toBe(5000);
    expect(config.serviceName).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('trims env values', () => {
    expect(resolveConfig({}, { env: { OTEL_BSP_SCHEDULE_DELAY: ' 1500 ' } }).scheduledDelayMillis).toBe(1500);
  });

  it('warns about an invalid OTEL_ANALYTICS_ENABLED and stays enabled', () => {
    const config = resolveConfig({}, { env: { OTEL_ANALYTICS_ENABLED: 'maybe' } });
    expect(config.enabled).toBe(true);
    expect(warnings.some((w) => w.includes('OTEL_ANALYTICS_ENABLED') && w.includes('"maybe"'))).toBe(true);
  });

  it('falls back to the next env var when the first is invalid', () => {
    const config = resolveConfig(
      {},
      { env: { OTEL_ANALYTICS_FLUSH_STRATEGY: 'often', ANALYTICS_FLUSH_STRATEGY: 'count' } },
    );
    expect(config.flushStrategy).toBe('count');
    expect(warnings.some((w) => w.includes('OTEL_ANALYTICS_FLUSH_STRATEGY'))).toBe(true);
  });

  it('warns about an invalid config-file value and falls back to the default', () => {
    const config = resolveConfig({}, { file: { sampleRate: 'half' } });
    expect(config.sampleRate).toBe(1);
    expect(warnings.some((w) => w.includes('sampleRate') && w.includes('"half"'))).toBe(true);
  });

  it('warns about an unknown config-file option but not about $schema', () => {
    resolveConfig({}, { file: { $schema: './schema.json', sampelRate: 0.5 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"sampelRate"');
  });

  it.each([
    ['a plain password', 'mysql://admin:s3cretPassw0rd@db/app', 's3cretPassw0rd'],
    ['a password holding an unencoded @', 'mysql://admin:s3cret@Passw0rd@db/app', 'Passw0rd'],
  ])('does not echo %s of an invalid database URL in the warning', (_label, url, secret) => {
    const config = resolveConfig({}, { env: { OTEL_ANALYTICS_DATABASE_URL: url } });
    expect(config.databaseUrl).toBeUndefined();
    expect(warnings.some((w) => w.includes('OTEL_ANALYTICS_DATABASE_URL'))).toBe(true);
    expect(warnings.join('\n')).not.toContain(secret);
  });

  it('does not echo the password of an invalid database URL passed in code', () => {
    const error = thrown(() => resolveConfig({ databaseUrl: 'mysql://admin:s3cretPassw0rd@db/app' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('databaseUrl');
    expect((error as Error).message).not.toContain('s3cretPassw0rd');
  });
});

describe('resolveConfig env vars', () => {
  it('turns everything off with OTEL_SDK_DISABLED=true, even if OTEL_ANALYTICS_ENABLED=true', () => {
    expect(resolveConfig({}, { env: { OTEL_SDK_DISABLED: 'true' } }).enabled).toBe(false);
    expect(
      resolveConfig({}, { env: { OTEL_SDK_DISABLED: 'TRUE', OTEL_ANALYTICS_ENABLED: 'true' } }).enabled,
    ).toBe(false);
  });

  it('stays enabled with OTEL_SDK_DISABLED=false', () => {
    expect(resolveConfig({}, { env: { OTEL_SDK_DISABLED: 'false' } }).enabled).toBe(true);
  });

  it.each([
    ['false', false],
    ['0', false],
    ['off', false],
    ['no', false],
    ['true', true],
    ['1', true],
  ])('reads OTEL_ANALYTICS_ENABLED=%j as %j', (raw, expected) => {
    expect(resolveConfig({}, { env: { OTEL_ANALYTICS_ENABLED: raw } }).enabled).toBe(expected);
  });

  it('reads the connection string from DATABASE_URL when OTEL_ANALYTICS_DATABASE_URL is not set', () => {
    const config = resolveConfig({}, { env: { DATABASE_URL: 'postgres://u@localhost/app' } });
    expect(config.databaseUrl).toBe('postgres://u@localhost/app');
  });

  it('prefers OTEL_ANALYTICS_DATABASE_URL over DATABASE_URL', () => {
    const config = resolveConfig(
      {},
      {
        env: { OTEL_ANALYTICS_DATABASE_URL: 'postgres://a@h/analytics', DATABASE_URL: 'postgres://b@h/app' },
      },
    );
    expect(config.databaseUrl).toBe('postgres://a@h/analytics');
  });

  it('rejects a non-postgres DATABASE_URL with a warning', () => {
    const config = resolveConfig({}, { env: { DATABASE_URL: 'mysql://u@localhost/app' } });
    expect(config.databaseUrl).toBeUndefined();
    expect(warnings.some((w) => w.includes('DATABASE_URL'))).toBe(true);
  });

  it('falls back to DATABASE_URL when OTEL_ANALYTICS_DATABASE_URL is not a postgres URL', () => {
    const config = resolveConfig(
      {},
      { env: { OTEL_ANALYTICS_DATABASE_URL: 'redis://h', DATABASE_URL: 'postgresql://u@h/app' } },
    );
    expect(config.databaseUrl).toBe('postgresql://u@h/app');
  });

  it('reads OTEL_SERVICE_NAME', () => {
    expect(resolveConfig({}, { env: { OTEL_SERVICE_NAME: 'shop' } }).serviceName).toBe('shop');
  });

  it('reads OTEL_ANALYTICS_EXCLUDED_PATHS as a comma list, trimming and skipping empty entries', () => {
    const config = resolveConfig(
      {},
      { env: { OTEL_ANALYTICS_EXCLUDED_PATHS: '/health, /static/* ,,/metrics,' } },
    );
    expect(config.excludedPaths).toEqual(['/health', '/static/*', '/metrics']);
  });

  it('reads OTEL_ANALYTICS_REDACT_KEYS and OTEL_ANALYTICS_CAPTURE_HEADERS as comma lists', () => {
    const config = resolveConfig(
      {},
      { env: { OTEL_ANALYTICS_REDACT_KEYS: 'tenant,ssn', OTEL_ANALYTICS_CAPTURE_HEADERS: 'x-request-id' } },
    );
    expect(config.redactKeys).toEqual(['tenant', 'ssn']);
    expect(config.captureHeaders).toEqual(['x-request-id']);
  });

  it('reads the OTEL_BSP_* variables', () => {
    const config = resolveConfig(
      {},
      {
        env: {
          OTEL_BSP_SCHEDULE_DELAY: '1000',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64',
          OTEL_BSP_MAX_QUEUE_SIZE: '4096',
          OTEL_BSP_EXPORT_TIMEOUT: '10000',
        },
      },
    );
    expect(config.scheduledDelayMillis).toBe(1000);
    expect(config.maxExportBatchSize).toBe(64);
    expect(config.maxQueueSize).toBe(4096);
    expect(config.exportTimeoutMillis).toBe(10_000);
  });

  it.each([
    ['traceidratio', '0.25', 0.25],
    ['parentbased_traceidratio', '0.1', 0.1],
    ['traceidratio', undefined, 1],
    ['always_on', undefined, 1],
    ['parentbased_always_on', '0.3', 1],
    ['always_off', undefined, 0],
    ['parentbased_always_off', undefined, 0],
    ['TraceIdRatio', '0.5', 0.5],
  ])(
    'reads OTEL_TRACES_SAMPLER=%s with OTEL_TRACES_SAMPLER_ARG=%j as a sample rate of %j',
    (sampler, arg, rate) => {
      const config = resolveConfig(
        {},
        { env: { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg } },
      );
      expect(config.sampleRate).toBe(rate);
    },
  );

  it('warns about an out-of-range OTEL_TRACES_SAMPLER_ARG and keeps every row', () => {
    const config = resolveConfig(
      {},
      { env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' } },
    );
    expect(config.sampleRate).toBe(1);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it.each([
    ['2', 2],
    ['0', 0],
    ['loopback', ['loopback']],
    ['loopback, 10.0.0.0/8, 192.0.2.7,PRIVATE', ['loopback', '10.0.0.0/8', '192.0.2.7', 'private']],
    ['2001:db8::/32', ['2001:db8::/32']],
  ])('reads OTEL_ANALYTICS_TRUSTED_PROXIES=%s', (raw, expected) => {
    expect(resolveConfig({}, { env: { OTEL_ANALYTICS_TRUSTED_PROXIES: raw } }).trustedProxies).toEqual(
      expected,
    );
    expect(warnings).toEqual([]);
  });

  it.each(['-1', '10.0.0.0/33', 'everyone', '1.2.3', '10.0.0.0/8,nope'])(
    'warns about OTEL_ANALYTICS_TRUSTED_PROXIES=%s and trusts no proxy',
    (raw) => {
      expect(resolveConfig({}, { env: { OTEL_ANALYTICS_TRUSTED_PROXIES: raw } }).trustedProxies).toEqual([]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('OTEL_ANALYTICS_TRUSTED_PROXIES');
      expect(warnings[0]).toContain('trusting no proxy');
    },
  );

  it('reads the privacy modes and the key, never showing the key in a warning', () => {
    const config = resolveConfig(
      {},
      {
        env: {
          OTEL_ANALYTICS_IP_MODE: 'Truncate',
          OTEL_ANALYTICS_USER_ID_MODE: 'hmac',
          OTEL_ANALYTICS_HMAC_KEY: 'a-secret-of-32-bytes-or-so-12345',
          OTEL_ANALYTICS_PROPAGATE_HOSTS: 'api.internal, *.svc.cluster.local',
        },
      },
    );
    expect(config).toMatchObject({
      ipMode: 'truncate',
      userIdMode: 'hmac',
      hmacKey: 'a-secret-of-32-bytes-or-so-12345',
      propagateHosts: ['api.internal', '*.svc.cluster.local'],
    });
    resolveConfig({}, { env: { OTEL_ANALYTICS_HMAC_KEY: 'short-secret' } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OTEL_ANALYTICS_HMAC_KEY');
    expect(warnings[0]).not.toContain('short-secret');
  });

  it('fails closed when a keyed mode comes from env without a key', () => {
    const config = resolveConfig({}, { env: { OTEL_ANALYTICS_USER_ID_MODE: 'hmac' } });
    expect(config.userIdMode).toBe('none');
    expect(config.hmacKey).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/need hmacKey.*not recorded/);
  });
});

describe('resolveConfig seed aliases', () => {
  it('reads ANALYTICS_ENABLED', () => {
    expect(resolveConfig({}, { env: { ANALYTICS_ENABLED: 'false' } }).enabled).toBe(false);
  });

  it('reads ANALYTICS_FLUSH_STRATEGY', () => {
    expect(resolveConfig({}, { env: { ANALYTICS_FLUSH_STRATEGY: 'count' } }).flushStrategy).toBe('count');
  });

  it('reads ANALYTICS_FLUSH_INTERVAL_SECONDS in seconds and converts it to milliseconds', () => {
    expect(resolveConfig({}, { env: { ANALYTICS_FLUSH_INTERVAL_SECONDS: '10' } }).scheduledDelayMillis).toBe(
      10_000,
    );
    expect(resolveConfig({}, { env: { ANALYTICS_FLUSH_INTERVAL_SECONDS: '2.5' } }).scheduledDelayMillis).toBe(
      2500,
    );
  });

  it('warns about a zero ANALYTICS_FLUSH_INTERVAL_SECONDS and keeps the default', () => {
    const config = resolveConfig({}, { env: { ANALYTICS_FLUSH_INTERVAL_SECONDS: '0' } });
    expect(config.scheduledDelayMillis).toBe(5000);
    expect(warnings.some((w) => w.includes('ANALYTICS_FLUSH_INTERVAL_SECONDS'))).toBe(true);
  });

  it('reads ANALYTICS_FLUSH_COUNT_THRESHOLD', () => {
    expect(resolveConfig({}, { env: { ANALYTICS_FLUSH_COUNT_THRESHOLD: '100' } }).maxExportBatchSize).toBe(
      100,
    );
  });

  it('reads ANALYTICS_ENABLE_SAMPLING with ANALYTICS_SAMPLING_RATE', () => {
    const config = resolveConfig(
      {},
      { env: { ANALYTICS_ENABLE_SAMPLING: 'true', ANALYTICS_SAMPLING_RATE: '0.25' } },
    );
    expect(config.sampleRate).toBe(0.25);
  });

  it('keeps every row when ANALYTICS_ENABLE_SAMPLING=false, whatever the rate', () => {
    const config = resolveConfig(
      {},
      { env: { ANALYTICS_ENABLE_SAMPLING: 'false', ANALYTICS_SAMPLING_RATE: '0.25' } },
    );
    expect(config.sampleRate).toBe(1);
  });

  it('keeps every row when sampling is enabled without a rate', () => {
    expect(resolveConfig({}, { env: { ANALYTICS_ENABLE_SAMPLING: 'true' } }).sampleRate).toBe(1);
  });

  it('warns about an invalid ANALYTICS_SAMPLING_RATE', () => {
    const config = resolveConfig(
      {},
      { env: { ANALYTICS_ENABLE_SAMPLING: 'true', ANALYTICS_SAMPLING_RATE: 'abc' } },
    );
    expect(config.sampleRate).toBe(1);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it.each([
    ['enabled', { OTEL_ANALYTICS_ENABLED: 'true', ANALYTICS_ENABLED: 'false' }, true],
    ['flushStrategy', { OTEL_ANALYTICS_FLUSH_STRATEGY: 'time', ANALYTICS_FLUSH_STRATEGY: 'count' }, 'time'],
    [
      'scheduledDelayMillis',
      { OTEL_BSP_SCHEDULE_DELAY: '1000', ANALYTICS_FLUSH_INTERVAL_SECONDS: '9' },
      1000,
    ],
    [
      'maxExportBatchSize',
      { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64', ANALYTICS_FLUSH_COUNT_THRESHOLD: '100' },
      64,
    ],
    [
      'sampleRate',
      {
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        ANALYTICS_ENABLE_SAMPLING: 'true',
        ANALYTICS_SAMPLING_RATE: '0.5',
      },
      0.1,
    ],
  ] as const)('prefers the OTel-style variable for %s when both are set', (option, env, expected) => {
    expect(resolveConfig({}, { env })[option]).toBe(expected);
    expect(warnings).toEqual([]);
  });
});

describe('batchSpanProcessorOptions', () => {
  const base = {
    scheduledDelayMillis: 2000,
    maxExportBatchSize: 100,
    maxQueueSize: 1000,
    exportTimeoutMillis: 7000,
  };

  it("never flushes on size with 'time': the batch is the whole queue", () => {
    expect(batchSpanProcessorOptions(resolveConfig({ ...base, flushStrategy: 'time' }))).toEqual({
      scheduledDelayMillis: 2000,
      maxExportBatchSize: 1000,
      maxQueueSize: 1000,
      exportTimeoutMillis: 7000,
    });
  });

  it("flushes on size with 'count', and at the latest after the maximum row age", () => {
    expect(batchSpanProcessorOptions(resolveConfig({ ...base, flushStrategy: 'count' }))).toEqual({
      scheduledDelayMillis: COUNT_MAX_ROW_AGE_MILLIS,
      maxExportBatchSize: 100,
      maxQueueSize: 1000,
      exportTimeoutMillis: 7000,
    });
  });

  it("flushes on size and on the schedule with 'hybrid'", () => {
    expect(batchSpanProcessorOptions(resolveConfig({ ...base, flushStrategy: 'hybrid' }))).toEqual({
      scheduledDelayMillis: 2000,
      maxExportBatchSize: 100,
      maxQueueSize: 1000,
      exportTimeoutMillis: 7000,
    });
  });

  it.each(['count', 'hybrid'] as const)("clamps the batch to the queue size with '%s'", (flushStrategy) => {
    const options = batchSpanProcessorOptions(
      resolveConfig({ ...base, maxExportBatchSize: 5000, maxQueueSize: 300, flushStrategy }),
    );
    expect(options.maxExportBatchSize).toBe(300);
    expect(options.maxQueueSize).toBe(300);
  });

  it('uses the defaults for the default config', () => {
    expect(batchSpanProcessorOptions(resolveConfig())).toEqual({
      scheduledDelayMillis: 5000,
      maxExportBatchSize: 512,
      maxQueueSize: 2048,
      exportTimeoutMillis: 30_000,
    });
  });
});

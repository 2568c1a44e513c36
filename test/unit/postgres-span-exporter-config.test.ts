import { describe, expect, it } from 'vitest';
import {
  exporterConfigFrom,
  resolvePostgresSpanExporterConfig,
  type PostgresPoolLike,
} from '../../exporter/postgres-span-exporter-config.js';
import { resolveConfig, type AnalyticsConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const url = 'postgres://app@localhost/analytics';

/** The message of what `fn` throws. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('resolvePostgresSpanExporterConfig', () => {
  it('applies the promised defaults', () => {
    expect(resolvePostgresSpanExporterConfig({ connectionString: url })).toEqual({
      connectionString: url,
      pool: undefined,
      maxQueueRows: 10_000,
      maxBatchRows: 1000,
      retryDeadlineMillis: 30_000,
      initialRetryDelayMillis: 100,
      maxRetryDelayMillis: 5000,
      statementTimeoutMillis: 15_000,
      connectionTimeoutMillis: 5000,
      shutdownTimeoutMillis: 5000,
      maxPoolSize: 2,
      redactKeys: [],
      userIdMode: 'plain',
      hmacKey: undefined,
      spoolDir: undefined,
      maxSpoolBytes: 256 * 1024 * 1024,
      statsIntervalMillis: 60_000,
      serviceName: undefined,
    });
  });

  it('returns a frozen config and keeps a given pool as it is', () => {
    const pool: PostgresPoolLike = {
      connect: () => Promise.resolve(),
      end: () => Promise.resolve(),
      options: {},
    };
    const config = resolvePostgresSpanExporterConfig({ pool });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.pool).toBe(pool);
    const factory = () => pool;
    expect(resolvePostgresSpanExporterConfig({ pool: factory }).pool).toBe(factory);
  });

  it.each<[keyof AnalyticsConfig, unknown]>([
    ['retryDeadlineMillis', 0],
    ['statsIntervalMillis', -1],
    ['maxSpoolBytes', 1.5],
    ['redactKeys', [' ']],
    ['userIdMode', 'HMAC'],
    ['hmacKey', 'short-key'],
    ['serviceName', '  '],
  ])('rejects %s = %j with the same message as the package configuration', (name, value) => {
    const fromExporter = messageOf(() =>
      resolvePostgresSpanExporterConfig({ connectionString: url, [name]: value }),
    );
    expect(fromExporter).toBe(messageOf(() => resolveConfig({ [name]: value })));
  });

  it('rejects a connection string as resolveConfig rejects a databaseUrl, without its password', () => {
    expect(
      messageOf(() => resolvePostgresSpanExporterConfig({ connectionString: 'mysql://u:secret@h/db' })),
    ).toBe('Invalid connectionString: "mysql://u:***@h/db" (expected a postgres:// or postgresql:// URL)');
  });

  it.each([
    ['maxQueueRows', 0, 'Invalid maxQueueRows: 0 (expected an integer from 1 to 2147483647)'],
    ['maxBatchRows', 2 ** 31, 'Invalid maxBatchRows: 2147483648 (expected an integer from 1 to 2147483647)'],
    ['maxPoolSize', '2', 'Invalid maxPoolSize: "2" (expected an integer from 1 to 2147483647)'],
    [
      'connectionTimeoutMillis',
      Number.NaN,
      'Invalid connectionTimeoutMillis: NaN (expected an integer from 1 to 2147483647)',
    ],
    ['spoolDir', '', 'Invalid spoolDir: "" (expected a directory path)'],
    [
      'pool',
      'postgres://x',
      'Invalid pool: "postgres://x" (expected a pg.Pool, or a function that returns one)',
    ],
    [
      'pool',
      { end: () => {} },
      'Invalid pool: an object without connect() (expected a pg.Pool, or a function that returns one)',
    ],
  ])('throws a ConfigError naming %s = %j', (name, value, message) => {
    expect(messageOf(() => resolvePostgresSpanExporterConfig({ connectionString: url, [name]: value }))).toBe(
      message,
    );
  });

  it('needs a connection string or a pool', () => {
    expect(messageOf(() => resolvePostgresSpanExporterConfig({}))).toBe(
      'PostgresSpanExporter needs a connectionString or a pool',
    );
  });

  it('refuses TLS settings of the connection string that could never connect, quoting them', () => {
    expect(
      messageOf(() =>
        resolvePostgresSpanExporterConfig({ connectionString: 'postgres://db/app?sslmode=required' }),
      ),
    ).toBe(
      'sslmode="required" is not a valid sslmode: use disable, allow, prefer, require, verify-ca or verify-full',
    );
    expect(
      messageOf(() =>
        resolvePostgresSpanExporterConfig({
          connectionString: 'postgres://db/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt',
        }),
      ),
    ).toMatch(/^sslrootcert=\/nonexistent\/ca.crt cannot be read \(ENOENT\)/);
  });

  it('takes what the register entry gives it from the package configuration', () => {
    const config = resolveConfig(
      {},
      {
        env: {
          OTEL_ANALYTICS_DATABASE_URL: url,
          OTEL_ANALYTICS_SPOOL_DIR: '/var/spool/app',
          OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '2000',
          OTEL_SERVICE_NAME: 'shop',
        },
      },
    );
    expect(resolvePostgresSpanExporterConfig(exporterConfigFrom(config))).toMatchObject({
      connectionString: url,
      spoolDir: '/var/spool/app',
      shutdownTimeoutMillis: 1500,
      serviceName: 'shop',
      maxSpoolBytes: config.maxSpoolBytes,
      retryDeadlineMillis: config.retryDeadlineMillis,
    });
  });
});

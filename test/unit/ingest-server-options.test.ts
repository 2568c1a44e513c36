import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IngestServer } from '../../ingest/ingest-server.js';
import {
  INGEST_SERVER_OPTIONS,
  resolveIngestServerOptions,
  type IngestServerOptions,
} from '../../ingest/ingest-server-options.js';
import { quote } from '../../src/config/resolve-options.js';
import { parseByteSize } from '../../src/config/value-checks.js';
import { ConfigError } from '../../src/errors.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';

/** As `openssl rand -base64 32` makes them. */
const STRONG = 'Zp4+Kx8Wq2Lm7Rt1Vb9Nc3Hs6Jf0Gd5Ya8Ue2Io4Tk=';
const MiB = 1024 * 1024;
const MAX_IN_FLIGHT = 'OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES';

let warnings: string[] = [];
let stopCapture: () => void = () => {};

beforeEach(() => {
  ({ warnings, stop: stopCapture } = captureDiagWarnings());
});

afterEach(() => {
  stopCapture();
});

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('resolveIngestServerOptions', () => {
  it('fills in the defaults, frozen, without a warning', () => {
    const resolved = resolveIngestServerOptions({});
    expect(resolved).toEqual({
      host: '127.0.0.1',
      port: 4318,
      token: undefined,
      maxBodyBytes: 8 * MiB,
      maxInFlightBytes: 64 * MiB,
      retryAfterSeconds: 5,
      requestTimeoutMillis: 30_000,
      bodyIdleTimeoutMillis: 10_000,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('keeps valid values given in code', () => {
    const options: IngestServerOptions = {
      host: 'localhost',
      port: 0,
      token: 't',
      maxBodyBytes: 1024,
      maxInFlightBytes: 4096,
      retryAfterSeconds: 0,
      requestTimeoutMillis: 1000,
      bodyIdleTimeoutMillis: 200,
    };
    expect(resolveIngestServerOptions(options)).toEqual(options);
  });

  it.each([
    ['host', ''],
    ['host', 42],
    ['port', -1],
    ['port', 65_536],
    ['port', 1.5],
    ['port', '4318'],
    ['maxBodyBytes', 0],
    ['maxBodyBytes', 1.5],
    ['maxBodyBytes', '8MiB'],
    ['maxInFlightBytes', -1],
    ['maxInFlightBytes', Number.NaN],
    ['retryAfterSeconds', -1],
    ['retryAfterSeconds', 2.5],
    ['requestTimeoutMillis', 0],
    ['requestTimeoutMillis', 2 ** 31],
    ['bodyIdleTimeoutMillis', Number.POSITIVE_INFINITY],
  ] as const)('throws a ConfigError naming %s and quoting %j when given in code', (name, value) => {
    const error = thrown(() => resolveIngestServerOptions({ [name]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `Invalid ${name}: ${quote(value)} (expected ${INGEST_SERVER_OPTIONS[name].expected})`,
    );
  });

  it('names an invalid token without quoting it', () => {
    for (const token of ['', 12_345_678]) {
      const error = thrown(() => resolveIngestServerOptions({ token: token as string }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe('Invalid token: (hidden) (expected a non-empty string)');
    }
  });

  it('refuses a host and token that are not a safe pair, after resolving them', () => {
    expect(() => resolveIngestServerOptions({ host: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => resolveIngestServerOptions({ host: '0.0.0.0' })).toThrow(/without a token/);
    expect(() => resolveIngestServerOptions({ host: '0.0.0.0', token: 'short' })).toThrow(/weak/);
    expect(() => resolveIngestServerOptions({ token: ' padded ' })).toThrow(/whitespace/);
    expect(resolveIngestServerOptions({ host: '0.0.0.0', token: STRONG }).token).toBe(STRONG);
  });

  it('reads the token from OTEL_ANALYTICS_INGEST_TOKEN, trimmed, and checks it with the host', () => {
    const env = { OTEL_ANALYTICS_INGEST_TOKEN: ` ${STRONG}\n` };
    expect(resolveIngestServerOptions({ host: '0.0.0.0' }, { env }).token).toBe(STRONG);
    expect(resolveIngestServerOptions({}, { env: { OTEL_ANALYTICS_INGEST_TOKEN: '  ' } }).token).toBe(
      undefined,
    );
    const weak = { OTEL_ANALYTICS_INGEST_TOKEN: 'guessable' };
    const error = thrown(() => resolveIngestServerOptions({ host: '0.0.0.0' }, { env: weak }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/weak OTEL_ANALYTICS_INGEST_TOKEN/);
    expect((error as Error).message).not.toContain('guessable');
    // A token in code wins over the env's.
    expect(resolveIngestServerOptions({ token: 'mine' }, { env }).token).toBe('mine');
  });

  it.each([
    ['65536', 65_536],
    ['64KiB', 64 * 1024],
    ['128 MiB', 128 * MiB],
    ['1gib', 1024 * MiB],
    [' 2MiB ', 2 * MiB],
  ])('reads maxInFlightBytes from %s=%j', (raw, bytes) => {
    const resolved = resolveIngestServerOptions({}, { env: { [MAX_IN_FLIGHT]: raw } });
    expect(resolved.maxInFlightBytes).toBe(bytes);
    expect(warnings).toEqual([]);
  });

  it.each(['lots', '0', '-1', '1.5MiB', '10TiB', '64MB', '9999999999GiB'])(
    'warns about %s=%j, quoting it, and uses the default',
    (raw) => {
      const resolved = resolveIngestServerOptions({}, { env: { [MAX_IN_FLIGHT]: raw } });
      expect(resolved.maxInFlightBytes).toBe(64 * MiB);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(
        `Invalid ${MAX_IN_FLIGHT}=${JSON.stringify(raw)} (expected a positive number of bytes, or KiB, MiB, GiB); using the default`,
      );
    },
  );

  it('takes maxInFlightBytes in code over the env', () => {
    const resolved = resolveIngestServerOptions(
      { maxInFlightBytes: 1000 },
      { env: { [MAX_IN_FLIGHT]: '1MiB' } },
    );
    expect(resolved.maxInFlightBytes).toBe(1000);
  });
});

describe('IngestServer', () => {
  const pipeline = { submit: () => ({ accepted: true as const, rows: 0 }) };

  it('checks its settings as resolveIngestServerOptions does, and reads no env var', () => {
    expect(() => new IngestServer({ pipeline, port: 70_000 })).toThrow(
      'Invalid port: 70000 (expected an integer from 0 to 65535)',
    );
    expect(() => new IngestServer({ pipeline, retryAfterSeconds: -1 })).toThrow(ConfigError);
    expect(() => new IngestServer({ pipeline, maxBodyBytes: 0 })).toThrow('Invalid maxBodyBytes: 0');
    expect(() => new IngestServer({ pipeline, requestTimeoutMillis: 0 })).toThrow(
      'Invalid requestTimeoutMillis: 0',
    );
    expect(() => new IngestServer({ pipeline, host: ' ' })).toThrow('Invalid host: " "');
  });

  it('takes a resolved config as given (resolution is idempotent)', () => {
    const resolved = resolveIngestServerOptions({ port: 0, maxInFlightBytes: 1024 * 1024 });
    expect(resolveIngestServerOptions(resolved)).toEqual(resolved);
    expect(new IngestServer({ ...resolved, pipeline }).inFlightBytes).toBe(0);
  });
});

describe('parseByteSize', () => {
  it('reads bytes and KiB, MiB, GiB in any case, with or without a space', () => {
    expect(parseByteSize('1')).toBe(1);
    expect(parseByteSize('3kib')).toBe(3072);
    expect(parseByteSize('3 KiB')).toBe(3072);
    expect(parseByteSize('2MIB')).toBe(2 * MiB);
    expect(parseByteSize('1GiB')).toBe(1024 * MiB);
  });

  it('refuses zero, fractions, signs, other units and sizes past the safe integers', () => {
    for (const raw of [
      '',
      '0',
      '0KiB',
      '1.5',
      '+5',
      '-5',
      '5 KB',
      '5k',
      'KiB',
      '9007199254740993',
      '99999999999GiB',
    ]) {
      expect(parseByteSize(raw), raw).toBe(undefined);
    }
  });
});

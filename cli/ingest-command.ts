import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { PostgresSpanExporter } from '../exporter/postgres-span-exporter.js';
import { exporterConfigFrom } from '../exporter/postgres-span-exporter-config.js';
import { databaseUrlOf } from './database-url-of.js';
import { IngestPipeline } from '../ingest/ingest-pipeline.js';
import {
  checkIngestAccess,
  DEFAULT_INGEST_HOST,
  DEFAULT_INGEST_PORT,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  IngestServer,
  TRACES_PATH,
} from '../ingest/ingest-server.js';
import { protectForeignAttributes } from '../ingest/protect-foreign-attributes.js';
import { loadConfigFile } from '../src/config-file.js';
import { resolveConfig } from '../src/config.js';
import { readEnv, type EnvSnapshot } from '../src/env.js';
import { createLogger } from '../src/support/diag.js';
import { PrivacyPolicy } from '../src/privacy/privacy-policy.js';
import { maskUrlPassword } from '../src/privacy/redactor.js';

/** Options of the `ingest` command, as parsed from the command line. */
export interface IngestCommandOptions {
  host?: string | undefined;
  port?: string | undefined;
  databaseUrl?: string | undefined;
}

/**
 * `otel-pg-analytics ingest`: receives OTLP/HTTP trace exports from services in any language
 * and writes their requests, auth events and external calls like the register entry does,
 * with the same configuration (env vars and `OTEL_ANALYTICS_CONFIG`). Runs until SIGTERM or
 * SIGINT, then stops accepting, writes what is queued (or spools it) and resolves the exit code.
 */
export async function ingestCommand(options: IngestCommandOptions): Promise<number> {
  const env = readEnv();
  diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const config = resolveConfig({}, { env, file: await loadConfigFile(env.OTEL_ANALYTICS_CONFIG) });
  const url = await databaseUrlOf('ingest', options.databaseUrl, env);
  if (url === undefined) return 2;
  const host = options.host ?? DEFAULT_INGEST_HOST;
  const port = options.port === undefined ? DEFAULT_INGEST_PORT : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`otel-pg-analytics ingest: --port must be a port number, not ${options.port}\n`);
    return 2;
  }
  const token = env.OTEL_ANALYTICS_INGEST_TOKEN?.trim() || undefined;
  const problem = checkIngestAccess(host, token);
  if (problem !== undefined) {
    process.stderr.write(`otel-pg-analytics ingest: ${problem}\n`);
    return 2;
  }
  const exporter = new PostgresSpanExporter({
    ...exporterConfigFrom(config),
    connectionString: url,
    serviceName: config.serviceName ?? 'otel-pg-analytics-ingest',
  });
  const {
    databaseUrl: _url,
    enabled: _enabled,
    serviceName: _serviceName,
    handleSignals: _signals,
    spoolDir: _spoolDir,
    maxSpoolBytes: _maxSpoolBytes,
    retryDeadlineMillis: _retryDeadline,
    statsIntervalMillis: _statsInterval,
    propagateHosts: _propagateHosts,
    ...processorOptions
  } = config;
  const pipeline = new IngestPipeline({ ...processorOptions, exporter });
  const privacy = new PrivacyPolicy(config);
  const server = new IngestServer({
    pipeline,
    host,
    port,
    ...(token !== undefined && { token }),
    maxInFlightBytes: maxInFlightBytesFrom(env),
    protect: (attributes, kind) => protectForeignAttributes(attributes, kind, privacy),
  });
  const address = await server.listen();
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(
    `otel-pg-analytics ingest: listening on http://${shown}:${address.port}${TRACES_PATH} ` +
      `(${token ? 'bearer token required' : 'loopback only, no token'}), writing to ${maskUrlPassword(url)}\n`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.stdout.write(`otel-pg-analytics ingest: ${signal}: finishing the requests being answered\n`);
  await server.close();
  await pipeline.shutdown();
  process.stdout.write('otel-pg-analytics ingest: stopped\n');
  return 0;
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/**
 * `OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES`: bytes, or `KiB`, `MiB`, `GiB` (`128MiB`). An
 * invalid value is reported and the default used, as for the other env vars.
 */
function maxInFlightBytesFrom(env: EnvSnapshot): number {
  const name = 'OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES';
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MAX_IN_FLIGHT_BYTES;
  const match = /^(\d+)\s*(kib|mib|gib)?$/i.exec(raw);
  const bytes = match ? Number(match[1]) * BYTE_UNITS[(match[2] ?? '').toLowerCase()]! : Number.NaN;
  if (Number.isSafeInteger(bytes) && bytes > 0) return bytes;
  createLogger('config').warn(
    `Invalid ${name}=${JSON.stringify(raw)} (expected a positive number of bytes, or KiB, MiB, GiB); using the default`,
  );
  return DEFAULT_MAX_IN_FLIGHT_BYTES;
}

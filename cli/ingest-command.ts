import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { PostgresSpanExporter } from '../exporter/postgres-span-exporter.js';
import { exporterConfigFrom } from '../exporter/postgres-span-exporter-config.js';
import { databaseUrlOf } from './database-url-of.js';
import { IngestPipeline } from '../ingest/ingest-pipeline.js';
import { IngestServer, TRACES_PATH } from '../ingest/ingest-server.js';
import {
  INGEST_SERVER_OPTIONS,
  resolveIngestServerOptions,
  type ResolvedIngestServerOptions,
} from '../ingest/ingest-server-options.js';
import { protectForeignAttributes } from '../ingest/protect-foreign-attributes.js';
import { loadConfigFile } from '../src/config-file.js';
import { resolveConfig } from '../src/config.js';
import { parseNumber } from '../src/config/value-checks.js';
import { readEnv } from '../src/env.js';
import { ConfigError } from '../src/errors.js';
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
  const portSpec = INGEST_SERVER_OPTIONS.port;
  const port = options.port === undefined ? undefined : portSpec.check(parseNumber(options.port));
  if (options.port !== undefined && port === undefined) {
    process.stderr.write(
      `otel-pg-analytics ingest: --port must be ${portSpec.expected}, not ${JSON.stringify(options.port)}\n`,
    );
    return 2;
  }
  // The token and the in-flight budget come from the env; a host and token that are not a safe
  // pair are refused here, before anything is opened.
  let settings: ResolvedIngestServerOptions;
  try {
    settings = resolveIngestServerOptions({ host: options.host, port }, { env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`otel-pg-analytics ingest: ${error.message}\n`);
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
    ...settings,
    pipeline,
    protect: (attributes, kind) => protectForeignAttributes(attributes, kind, privacy),
  });
  const address = await server.listen();
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(
    `otel-pg-analytics ingest: listening on http://${shown}:${address.port}${TRACES_PATH} ` +
      `(${settings.token !== undefined ? 'bearer token required' : 'loopback only, no token'}), writing to ${maskUrlPassword(url)}\n`,
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

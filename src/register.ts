/**
 * `node --import otel-pg-analytics/register app.js`
 *
 * The composition root: reads the environment, and if enabled starts the instrumentations,
 * the processors and the Postgres exporter. The only module of `src/` that loads the
 * database layer. Anything that goes wrong is reported once and leaves the app running,
 * uninstrumented.
 */
import { register as registerLoaderHook } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { resolveConfig } from './config.js';
import { loadConfigFile } from './config-file.js';
import { readEnv } from './env.js';
import { createLogger, describeError } from './support/diag.js';
import { SUPPORTED_FRAMEWORKS } from './instrumentation/frameworks/supported-frameworks.js';
import { hasGlobalDiagLogger, hasGlobalTracerProvider } from './pipeline/global-tracer-provider.js';
import { installExitHandlers } from './lifecycle/install-exit-handlers.js';
import { startAnalytics } from './start-analytics.js';

/** Only these modules are wrapped by the ESM loader hook (fewer ESM breakages). */
const HOOKED_MODULES = [
  'http',
  'https',
  'node:http',
  'node:https',
  ...SUPPORTED_FRAMEWORKS.flatMap((framework) => framework.hookedModules),
];

const logger = createLogger('register');

const LOG_LEVELS: Record<string, DiagLogLevel> = {
  NONE: DiagLogLevel.NONE,
  ERROR: DiagLogLevel.ERROR,
  WARN: DiagLogLevel.WARN,
  INFO: DiagLogLevel.INFO,
  DEBUG: DiagLogLevel.DEBUG,
  VERBOSE: DiagLogLevel.VERBOSE,
  ALL: DiagLogLevel.ALL,
};

async function main(): Promise<void> {
  const env = readEnv();
  // Without a diag logger our one warning would be silent. OTEL_LOG_LEVEL sets its level (NodeSDK
  // would install a logger only later, after our warnings); an app's own logger is left alone.
  const ownLogger = !hasGlobalDiagLogger();
  if (ownLogger) {
    const level = LOG_LEVELS[env.OTEL_LOG_LEVEL?.trim().toUpperCase() ?? ''] ?? DiagLogLevel.WARN;
    diag.setLogger(new DiagConsoleLogger(), level);
  }
  const config = resolveConfig({}, { env, file: await loadConfigFile(env.OTEL_ANALYTICS_CONFIG) });
  if (!config.enabled) return;
  if (config.databaseUrl === undefined) {
    // An invalid URL was already reported when the config was resolved.
    if (!env.OTEL_ANALYTICS_DATABASE_URL && !env.DATABASE_URL) {
      logger.warn('OTEL_ANALYTICS_DATABASE_URL (or DATABASE_URL) is not set: analytics are off');
    }
    return;
  }
  if (hasGlobalTracerProvider()) {
    logger.warn(
      'an OpenTelemetry tracer provider is already registered, so the register entry starts nothing ' +
        '(http is not patched twice); add AnalyticsSpanProcessor and PostgresSpanExporter to your own SDK instead',
    );
    return;
  }
  registerLoaderHook('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: HOOKED_MODULES },
  });
  const [{ PostgresSpanExporter }, { exporterConfigFrom }] = await Promise.all([
    import('../exporter/postgres-span-exporter.js'),
    import('../exporter/postgres-span-exporter-config.js'),
  ]);
  const exporter = new PostgresSpanExporter(exporterConfigFrom(config));
  // NodeSDK installs its own logger when OTEL_LOG_LEVEL is set; ours would only make it warn
  // that it replaces one.
  if (ownLogger && env.OTEL_LOG_LEVEL !== undefined) diag.disable();
  const pipeline = startAnalytics(config, exporter, { otelPropagators: env.OTEL_PROPAGATORS });
  installExitHandlers(pipeline, {
    handleSignals: config.handleSignals,
    timeoutMillis: config.shutdownTimeoutMillis,
  });
}

// --import preloads run again in every Worker thread: only the main thread gets a pipeline.
if (isMainThread) {
  try {
    await main();
  } catch (error) {
    logger.error(`not started, the application is not instrumented: ${describeError(error)}`);
  }
}

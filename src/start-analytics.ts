import { AlwaysOnSampler, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { batchSpanProcessorOptions, type ResolvedAnalyticsConfig } from './config.js';
import { setActivePipeline, type ActivePipeline } from './pipeline/active-pipeline.js';
import { createPropagator } from './privacy/create-propagator.js';
import { createLogger, describeError } from './support/diag.js';
import { createAnalyticsInstrumentations } from './instrumentation/create-analytics-instrumentations.js';
import { AnalyticsSpanProcessor } from './processors/analytics-span-processor.js';
import type { PipelineStats } from './pipeline-stats.js';
import type { SpanExporterLike } from './span-types.js';

/** A started pipeline: what the helpers and the exit handlers need. */
export type StartedPipeline = ActivePipeline;

const logger = createLogger('start');

/**
 * Starts NodeSDK with the http and undici instrumentations (and the supported frameworks'), the
 * analytics processor and a BatchSpanProcessor (the flush strategy) around `exporter`. Every
 * span is recorded (AlwaysOnSampler) because sampling happens in the processor, at span end.
 * NodeSDK's default OTLP metrics and logs exporters are switched off. Trace context goes only
 * to `propagateHosts`.
 */
export function startAnalytics(
  config: ResolvedAnalyticsConfig,
  exporter: SpanExporterLike & { forceFlush(): Promise<void>; getStats?(): PipelineStats },
  { otelPropagators }: { otelPropagators?: string | undefined } = {},
): StartedPipeline {
  const {
    databaseUrl: _url,
    enabled: _enabled,
    serviceName,
    handleSignals: _signals,
    spoolDir: _spoolDir,
    maxSpoolBytes: _maxSpoolBytes,
    retryDeadlineMillis: _retryDeadline,
    statsIntervalMillis: _statsInterval,
    propagateHosts,
    ...options
  } = config;
  const processor = new AnalyticsSpanProcessor({
    ...options,
    spanProcessor: new BatchSpanProcessor({ exporter, ...batchSpanProcessorOptions(config) }),
    exporter,
  });
  const sdk = new NodeSDK({
    ...(serviceName !== undefined && { serviceName }),
    instrumentations: createAnalyticsInstrumentations(options),
    spanProcessors: [processor],
    sampler: new AlwaysOnSampler(),
    textMapPropagator: createPropagator(otelPropagators, propagateHosts),
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  let stopped: Promise<void> | undefined;
  const pipeline: StartedPipeline = {
    forceFlush: () => processor.forceFlush(),
    getStats: () => exporter.getStats?.(),
    shutdown: () =>
      (stopped ??= (async () => {
        try {
          await sdk.shutdown();
        } catch (error) {
          logger.warn(`shutdown did not complete cleanly: ${describeError(error)}`);
        }
        await exporter.shutdown().catch(() => undefined);
      })()),
  };
  setActivePipeline(pipeline);
  return pipeline;
}

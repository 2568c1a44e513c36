/**
 * The root entry: the helpers an app calls, and what composing the pipeline into an own
 * NodeSDK needs (docs/composing.md). The exporter is `otel-pg-analytics/exporter`, the admin
 * commands `otel-pg-analytics/admin`, the span attribute names `otel-pg-analytics/semconv`.
 * Every name here is a promise to users: test/unit/public-api.test.ts pins the list.
 */
export { recordAuthEvent, type AuthEvent, type AuthEventType } from './helpers/record-auth-event.js';
export { runAsUser } from './helpers/run-as-user.js';
export { setUser } from './helpers/set-user.js';
export { forceFlush, shutdown } from './helpers/shutdown.js';
export { getPipelineStats } from './helpers/get-pipeline-stats.js';
export type { PipelineStats } from './pipeline-stats.js';
export {
  AnalyticsSpanProcessor,
  type AnalyticsSpanProcessorConfig,
} from './processors/analytics-span-processor.js';
export { createAnalyticsInstrumentations } from './instrumentation/create-analytics-instrumentations.js';
export { createHttpInstrumentationConfig } from './instrumentation/http-instrumentation-config.js';
export { createUndiciInstrumentationConfig } from './instrumentation/undici-instrumentation-config.js';
export { HostScopedPropagator } from './privacy/host-scoped-propagator.js';
export {
  batchSpanProcessorOptions,
  resolveConfig,
  type AnalyticsConfig,
  type ConfigSources,
  type FlushStrategy,
  type ResolvedAnalyticsConfig,
} from './config.js';
export { readEnv, type EnvSnapshot } from './env.js';
export { AnalyticsError, ConfigError } from './errors.js';
export type { IpMode, UserIdMode } from './privacy/privacy-policy.js';
export type { CostModel, ServiceDefinition } from './pricing/service-catalog.js';
export type { ModelPrice, ModelPriceTier } from './pricing/price-table.js';

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
export {
  batchSpanProcessorOptions,
  DEFAULT_COUNT_MAX_ROW_AGE_MILLIS,
  DEFAULT_EXPORT_TIMEOUT_MILLIS,
  DEFAULT_FLUSH_STRATEGY,
  DEFAULT_MAX_EXPORT_BATCH_SIZE,
  DEFAULT_MAX_OPEN_CLIENT_SPAN_MILLIS,
  DEFAULT_MAX_QUEUE_SIZE,
  DEFAULT_REQUEST_HOLD_MILLIS,
  DEFAULT_SAMPLE_RATE,
  DEFAULT_SCHEDULED_DELAY_MILLIS,
  DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
  DEFAULT_SLOW_REQUEST_MILLIS,
  DEFAULT_MAX_SPOOL_BYTES,
  DEFAULT_RETRY_DEADLINE_MILLIS,
  DEFAULT_STATS_INTERVAL_MILLIS,
  resolveConfig,
  type AnalyticsConfig,
  type ConfigSources,
  type FlushStrategy,
  type ResolvedAnalyticsConfig,
} from './config.js';
export { readEnv, type EnvSnapshot } from './env.js';
export { AnalyticsError, ConfigError } from './errors.js';
export { Redactor, REDACTED, type RedactorConfig } from './internal/redactor.js';
export { HostScopedPropagator } from './internal/host-scoped-propagator.js';
export type { IpMode, UserIdMode } from './internal/privacy-policy.js';
export type { TrustedProxies } from './internal/trusted-proxies.js';
export { DEFAULT_SERVICES, type CostModel, type ServiceDefinition } from './pricing/service-catalog.js';
export {
  DEFAULT_MODEL_PRICES,
  PRICE_TABLE_VERSION,
  type ModelPrice,
  type ModelPriceTier,
} from './pricing/price-table.js';
export type {
  ExportResultLike,
  ReadableSpanLike,
  SpanExporterLike,
  SpanLike,
  SpanProcessorLike,
} from './span-types.js';
export {
  ATTR_ENDUSER_ID,
  ATTR_ENDUSER_PSEUDO_ID,
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
  ATTR_SERVICE_PEER_NAME,
  ATTR_ERROR_MESSAGE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_ANALYTICS_RECORD,
  ATTR_ANALYTICS_SAMPLE_WEIGHT,
  ATTR_ANALYTICS_CLIENT_ADDRESS,
  ATTR_ANALYTICS_SLOW,
  ATTR_ANALYTICS_ABORTED,
  ATTR_ANALYTICS_INCOMPLETE,
  ATTR_ANALYTICS_COST_USD,
  ATTR_ANALYTICS_COST_MODEL,
  ATTR_ANALYTICS_COST_UNKNOWN_REASON,
  ATTR_ANALYTICS_PRICE_SOURCE,
  ATTR_ANALYTICS_PRICE_CHECKED_AT,
  ATTR_ANALYTICS_AUTH_EVENT_TYPE,
  ATTR_ANALYTICS_AUTH_SUCCESS,
  ATTR_ANALYTICS_AUTH_METADATA,
  ATTR_HTTP_REQUEST_HEADER_PREFIX,
  RECORD_API,
  RECORD_AUTH,
  RECORD_EXTERNAL,
  TRACER_NAME,
  type RecordType,
} from './semconv.js';
export { VERSION } from './version.js';

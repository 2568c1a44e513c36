// docs/composing.md ("Composing it into your own NodeSDK"), with a GenAI instrumentation beside ours
// (@opentelemetry/instrumentation-openai), then the LLM SDK app. The services of the stub come
// in code (STUB_SERVICES, JSON), as an app passes its own. At exit it prints the spans it saw
// (`spans: [...]`, one line), so a test can tell which libraries traced themselves.
import { register } from 'node:module';
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { AlwaysOnSampler, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai');
const {
  AnalyticsSpanProcessor,
  batchSpanProcessorOptions,
  createAnalyticsInstrumentations,
  readEnv,
  resolveConfig,
} = await import('otel-pg-analytics');
const { PostgresSpanExporter } = await import('otel-pg-analytics/exporter');

const config = resolveConfig(
  { sampleRate: 1, services: JSON.parse(process.env.STUB_SERVICES ?? '[]') },
  { env: readEnv() },
);
const exporter = new PostgresSpanExporter({ connectionString: config.databaseUrl });
/** @type {{ name: string, kind: number, scope: string, spanId: string, parentSpanId?: string }[]} */
const seen = [];
const observer = {
  onStart() {},
  /** @param {import('@opentelemetry/sdk-trace').ReadableSpan} span */
  onEnd(span) {
    seen.push({
      name: span.name,
      kind: span.kind,
      scope: span.instrumentationScope.name,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
    });
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
const sdk = new NodeSDK({
  instrumentations: [...createAnalyticsInstrumentations(config), new OpenAIInstrumentation()],
  spanProcessors: [
    new AnalyticsSpanProcessor({
      ...config,
      spanProcessor: new BatchSpanProcessor({ exporter, ...batchSpanProcessorOptions(config) }),
      exporter,
    }),
    observer,
  ],
  sampler: new AlwaysOnSampler(),
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.on('SIGTERM', () =>
  sdk.shutdown().finally(() => {
    process.stdout.write(`spans: ${JSON.stringify(seen)}\n`);
    process.exit(0);
  }),
);

await import('./llm-sdk-app.mjs');

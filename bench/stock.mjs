// Mode "stock": the same instrumentations, a BatchSpanProcessor and the OTLP/HTTP (JSON)
// trace exporter sending to a local sink (OTLP_SINK_URL), as a stock OpenTelemetry setup does.
import { register } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

const sink = /** @type {string} */ (process.env.OTLP_SINK_URL); // set by bench/harness.mjs
// The same ESM hook as otel-pg-analytics/register, so every mode patches the same modules.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { include: ['http', 'https', 'node:http', 'node:https'] },
});
const sdk = new NodeSDK({
  instrumentations: [
    // The exporter's own requests to the sink are not traced.
    new HttpInstrumentation({
      ignoreOutgoingRequestHook: (options) => `${options.port}` === new URL(sink).port,
    }),
    new UndiciInstrumentation(),
  ],
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${sink}/v1/traces` }) })],
  sampler: new AlwaysOnSampler(),
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown().finally(() => process.exit(0)));

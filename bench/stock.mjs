// Mode "stock": the same instrumentations (http, undici, and express as an Express user adds
// it), a BatchSpanProcessor and the OTLP/HTTP trace exporter sending to OTLP_SINK_URL (a local
// sink, or `otel-pg-analytics ingest` in the system benchmark), as a stock OpenTelemetry setup
// does. OTLP/JSON (`@opentelemetry/exporter-trace-otlp-http`) unless OTLP_PROTOCOL is
// `http/protobuf` (`@opentelemetry/exporter-trace-otlp-proto`, NodeSDK's default when it builds
// the exporter from OTEL_* variables).
import { register } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';

const sink = /** @type {string} */ (process.env.OTLP_SINK_URL); // set by bench/harness.mjs
const { OTLPTraceExporter } =
  process.env.OTLP_PROTOCOL === 'http/protobuf'
    ? await import('@opentelemetry/exporter-trace-otlp-proto')
    : await import('@opentelemetry/exporter-trace-otlp-http');
// The same ESM hook as otel-pg-analytics/register, so every mode patches the same modules.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { include: ['http', 'https', 'node:http', 'node:https', 'express'] },
});
const sdk = new NodeSDK({
  instrumentations: [
    // The exporter's own requests to the sink are not traced.
    new HttpInstrumentation({
      ignoreOutgoingRequestHook: (options) => `${options.port}` === new URL(sink).port,
    }),
    new UndiciInstrumentation(),
    new ExpressInstrumentation(),
  ],
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${sink}/v1/traces` }) })],
  sampler: new AlwaysOnSampler(),
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown().finally(() => process.exit(0)));

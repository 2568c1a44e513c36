// Mode "floor": the same instrumentations (http, undici, and express as an Express user adds
// it), every span recorded, handed to a BatchSpanProcessor whose exporter does nothing. What any
// OpenTelemetry setup costs at least.
import { register } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';

/** @type {import('@opentelemetry/sdk-trace').SpanExporter} */
const noop = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
};
// The same ESM hook as otel-pg-analytics/register, so every mode patches the same modules.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { include: ['http', 'https', 'node:http', 'node:https', 'express'] },
});
const sdk = new NodeSDK({
  instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation(), new ExpressInstrumentation()],
  spanProcessors: [new BatchSpanProcessor({ exporter: noop })],
  sampler: new AlwaysOnSampler(),
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown().finally(() => process.exit(0)));

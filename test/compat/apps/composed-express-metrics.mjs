// docs/composing.md ("Composing it into your own NodeSDK") with a metric reader, as an app that
// keeps OpenTelemetry's own metrics writes it, then an Express app: the root's Express 5, or the
// one required from the folder EXPRESS_FROM (test/compat/stacks/express4: Express 4). At
// SIGTERM it prints what OpenTelemetry saw besides the rows, as one line: `seen: {"durations":
// [the attributes of each http.server.request.duration data point],"spans":[each SERVER
// span's name and http.route]}`.
import { createRequire, register } from 'node:module';
import path from 'node:path';
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { MetricReader } = await import('@opentelemetry/sdk-metrics');
const { AlwaysOnSampler, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
const {
  AnalyticsSpanProcessor,
  batchSpanProcessorOptions,
  createAnalyticsInstrumentations,
  readEnv,
  resolveConfig,
} = await import('otel-pg-analytics');
const { PostgresSpanExporter } = await import('otel-pg-analytics/exporter');

/** Collects when asked (`collect()`), as a pull exporter such as Prometheus's does. */
class OnDemandMetricReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const config = resolveConfig({ sampleRate: 1 }, { env: readEnv() });
const exporter = new PostgresSpanExporter({ connectionString: config.databaseUrl });
const reader = new OnDemandMetricReader();
/** @type {{ name: string, route: unknown }[]} */
const spans = [];
const observer = {
  onStart() {},
  /** @param {import('@opentelemetry/sdk-trace').ReadableSpan} span */
  onEnd(span) {
    if (span.kind === 1) spans.push({ name: span.name, route: span.attributes['http.route'] });
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
const sdk = new NodeSDK({
  instrumentations: [...createAnalyticsInstrumentations(config)],
  spanProcessors: [
    new AnalyticsSpanProcessor({
      ...config,
      spanProcessor: new BatchSpanProcessor({ exporter, ...batchSpanProcessorOptions(config) }),
      exporter,
    }),
    observer,
  ],
  sampler: new AlwaysOnSampler(),
  metricReaders: [reader],
  logRecordProcessors: [],
});
sdk.start();
process.on('SIGTERM', async () => {
  const { resourceMetrics } = await reader.collect();
  const durations = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === 'http.server.request.duration')
    .flatMap((metric) => metric.dataPoints.map((point) => point.attributes));
  await sdk.shutdown().finally(() => {
    process.stdout.write(`seen: ${JSON.stringify({ durations, spans })}\n`);
    process.exit(0);
  });
});

const { createServer } = await import('node:http');
const express = process.env.EXPRESS_FROM
  ? createRequire(path.join(process.env.EXPRESS_FROM, 'package.json'))('express')
  : (await import('express')).default;

const app = express();
const api = express.Router();
api.get('/items/:id', (req, res) => res.json({ id: req.params.id }));
api.get('/later/:id', async (req, res) => {
  await new Promise((resolve) => setImmediate(resolve));
  res.json({ id: req.params.id });
});
// A hand-off that loses the request's context, as a connection pool may: a waiter's callback
// runs in the context of the request that releases it (here, within the releaser's handler).
/** @type {(() => void)[]} */
const waiters = [];
api.get('/waiters/:id', (req, res) => {
  waiters.push(() => res.json({ waited: req.params.id }));
});
api.get('/releasers/:id', (req, res) => {
  const release = () => {
    if (waiters.length === 0) return void setTimeout(release, 5); // the waiter is on its way
    for (const wake of waiters.splice(0)) wake();
    res.json({ released: req.params.id });
  };
  release();
});
app.use('/api', api);

const server = createServer(app);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});

// docs/composing.md ("Composing it into your own NodeSDK") beside @opentelemetry/instrumentation-openai,
// with openai 6 (this stack's own: the instrumentation patches openai >=4.19 <7 only), then an
// app whose handlers make chat completions against the local stub (STUB_URL).
// GET /call?mode=<plain|stream|stream-no-usage|retry|fail> sets the request's user, makes one
// call with the base URL `${STUB_URL}/openai/genai-<mode>.<stub mode>/v1`, and answers 200 with
// the text, or 502 with the status of the SDK's error. At exit it prints the spans it saw
// (`spans: [...]`, one line), with the attributes of those that are neither http nor undici.
import { register } from 'node:module';
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const http = await import('node:http');
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { AlwaysOnSampler, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai');
const {
  AnalyticsSpanProcessor,
  HostScopedPropagator,
  batchSpanProcessorOptions,
  createAnalyticsInstrumentations,
  readEnv,
  resolveConfig,
  setUser,
} = await import('../../../../dist/src/index.js');
const { PostgresSpanExporter } = await import('../../../../dist/exporter/index.js');

const config = resolveConfig(
  { sampleRate: 1, services: JSON.parse(process.env.STUB_SERVICES ?? '[]') },
  { env: readEnv() },
);
const exporter = new PostgresSpanExporter({ connectionString: config.databaseUrl });
/**
 * @type {{ name: string, kind: number, scope: string, spanId: string, parentSpanId?: string,
 *   attributes?: import('@opentelemetry/api').Attributes }[]}
 */
const seen = [];
const HTTP_SCOPES = ['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-undici'];
const observer = {
  onStart() {},
  /** @param {import('@opentelemetry/sdk-trace').ReadableSpan} span */
  onEnd(span) {
    const scope = span.instrumentationScope.name;
    seen.push({
      name: span.name,
      kind: span.kind,
      scope,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      ...(!HTTP_SCOPES.includes(scope) && { attributes: span.attributes }),
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
  // As docs/privacy.md says: trace context to the app's own services only, none to the provider.
  textMapPropagator: new HostScopedPropagator(new W3CTraceContextPropagator(), []),
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

// Imported once the instrumentation is in place, as an app's own modules are.
const { default: OpenAI } = await import('openai');

const STUB = process.env.STUB_URL ?? '';
const KEYS = JSON.parse(process.env.FAKE_KEYS ?? '{}');
/** @type {Record<string, string>} */
const STUB_MODE = { plain: 'ok', stream: 'ok', 'stream-no-usage': 'ok', retry: 'retry', fail: 'fail' };

/** @param {string} mode */
async function chat(mode) {
  const client = new OpenAI({
    apiKey: KEYS.openai,
    baseURL: `${STUB}/openai/genai-${mode}.${STUB_MODE[mode]}/v1`,
  });
  /** @type {{ model: string, messages: { role: 'user', content: string }[] }} */
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi.' }] };
  if (!mode.startsWith('stream')) {
    return (await client.chat.completions.create(request)).choices[0]?.message.content ?? '';
  }
  const stream = await client.chat.completions.create({
    ...request,
    stream: true,
    ...(mode === 'stream' && { stream_options: { include_usage: true } }),
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const mode = url.searchParams.get('mode') ?? 'plain';
  res.setHeader('content-type', 'application/json');
  if (url.pathname !== '/call' || !(mode in STUB_MODE)) {
    res.writeHead(404).end('{}');
    return;
  }
  setUser('user-7');
  try {
    res.end(JSON.stringify({ text: await chat(mode) }));
  } catch (error) {
    const e = /** @type {{ status?: number, message?: string }} */ (error);
    res.writeHead(502).end(JSON.stringify({ status: e.status, message: String(e.message) }));
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});

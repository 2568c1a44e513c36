// The hot path's pieces in one process, without HTTP or a database: CPU per span of starting
// and ending a SERVER span with a BatchSpanProcessor (no-op exporter) with and without
// AnalyticsSpanProcessor in front of it, and of mapping an API span to its row and encoding rows
// as COPY text. Each measurement runs in a fresh process (the heap and JIT state one leaves
// behind weighed on the next by several µs). `npm run bench:hot-path` (builds first).
// BENCH_HOT_SPANS (100000), BENCH_ROUNDS (5).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { TABLE_COLUMNS } from '../dist/database/analytics-database.js';
import { encodeCopyText } from '../dist/exporter/writer/encode-copy-text.js';
import { spanToRow } from '../dist/exporter/span-to-row.js';
import { AnalyticsSpanProcessor } from '../dist/src/index.js';
import { Redactor } from '../dist/src/privacy/redactor.js';
import { fakeSpan } from '../dev/spans.ts';
import { median } from './summarize.mjs';

/** @typedef {import('../dist/database/analytics-database.js').TableRow} TableRow */

const N = Number(process.env.BENCH_HOT_SPANS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// What instrumentation-http puts on a hello-world request's span.
const ATTRIBUTES = {
  'http.request.method': 'GET',
  'url.scheme': 'http',
  'url.path': '/hello',
  'server.address': '127.0.0.1',
  'server.port': 3000,
  'network.peer.address': '127.0.0.1',
  'network.peer.port': 50_000,
  'network.protocol.version': '1.1',
  'client.address': '127.0.0.1',
  'user_agent.original': 'autocannon',
};

/** @param {NodeJS.CpuUsage} since */
function cpuMicros(since) {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}

/**
 * CPU µs per span of start, two attributes, end, through `processor` to a no-op exporter.
 * @param {boolean} withAnalytics
 */
async function spansThrough(withAnalytics) {
  /** @type {import('@opentelemetry/sdk-trace').SpanExporter} */
  const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const batch = new BatchSpanProcessor({ exporter });
  const provider = new TracerProvider({
    spanProcessors: [withAnalytics ? new AnalyticsSpanProcessor({ spanProcessor: batch }) : batch],
  });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-http');
  const results = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const span = tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: ATTRIBUTES }, ROOT_CONTEXT);
      span.setAttribute('http.response.status_code', 200);
      span.setAttribute('http.response.body.size', 5);
      span.end();
      // The processor's timers and the batch's export get their turns, as in a server.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (round > 0) results.push(cpuMicros(start) / N); // round 0 warms the JIT up
  }
  await provider.shutdown();
  return median(results);
}

/** CPU µs per row of span → row, and of COPY text encoding in slices of 200 rows. */
function mapAndEncode() {
  const redactor = new Redactor();
  const spans = Array.from({ length: N }, (_, i) =>
    fakeSpan({
      kind: SpanKind.SERVER,
      scope: '@opentelemetry/instrumentation-http',
      attributes: {
        ...ATTRIBUTES,
        'network.peer.port': 50_000 + (i % 1000),
        'http.response.status_code': 200,
        'http.response.body.size': 5,
        'analytics.record': 'api',
        'analytics.sample_weight': 1,
      },
      startTime: [1_780_000_000 + Math.floor(i / 10_000), (i % 10_000) * 100_000],
      durationMillis: 0.2,
      serviceName: 'bench',
    }),
  );
  const map = [];
  const encode = [];
  for (let round = 0; round <= ROUNDS; round++) {
    let start = process.cpuUsage();
    const rows = spans.map((span) => /** @type {TableRow} */ (spanToRow(span, redactor)).row);
    const mapped = cpuMicros(start) / N;
    start = process.cpuUsage();
    for (let i = 0; i < N; i += 200) encodeCopyText(TABLE_COLUMNS.api_access_log, rows.slice(i, i + 200));
    const encoded = cpuMicros(start) / N;
    if (round > 0) {
      map.push(mapped);
      encode.push(encoded);
    }
  }
  return { map: median(map), encode: median(encode) };
}

/**
 * Runs one measurement in a child process; gives what it printed, parsed.
 * @param {string} what
 */
function measure(what) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), what], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`${what} failed`);
  return JSON.parse(child.stdout);
}

const what = process.argv[2];
if (what === 'spans') process.stdout.write(JSON.stringify(await spansThrough(false)));
else if (what === 'analytics') process.stdout.write(JSON.stringify(await spansThrough(true)));
else if (what === 'rows') process.stdout.write(JSON.stringify(mapAndEncode()));
else {
  const base = measure('spans');
  const analytics = measure('analytics');
  const { map, encode } = measure('rows');
  process.stdout.write(
    [
      `Hot path, ${N} spans × ${ROUNDS} rounds (medians; each line in its own process), Node ${process.version}:`,
      '',
      '| step | CPU µs per span |',
      '| --- | ---: |',
      `| SERVER span start → end, BatchSpanProcessor (no-op exporter) | ${base.toFixed(2)} |`,
      `| the same with AnalyticsSpanProcessor in front | ${analytics.toFixed(2)} |`,
      `| span → row (\`spanToRow\`) | ${map.toFixed(2)} |`,
      `| row → COPY text (\`encodeCopyText\`) | ${encode.toFixed(2)} |`,
      '',
    ].join('\n'),
  );
}

// The stages between "floor" and "ours", to see where our cost per request goes (BENCH_STAGE):
// "hooks": the instrumentations as we configure them (hooks counting body bytes, redacting
// queries, reading client addresses), every span to a BatchSpanProcessor with a no-op
// exporter, as the floor has; "processor": plus AnalyticsSpanProcessor (classification,
// sampling, request state, the derived span); "mapped": plus mapping each span to its row and
// encoding the rows as COPY text, written nowhere. "ours" then adds the writes to PostgreSQL.
import { register } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  AnalyticsSpanProcessor,
  batchSpanProcessorOptions,
  createAnalyticsInstrumentations,
  readEnv,
  resolveConfig,
} from 'otel-pg-analytics';
import { TABLE_COLUMNS } from '../dist/database/analytics-database.js';
import { encodeCopyText } from '../dist/exporter/writer/encode-copy-text.js';
import { spanToRow } from '../dist/exporter/span-to-row.js';
import { Redactor } from '../dist/src/privacy/redactor.js';

const stage = process.env.BENCH_STAGE;
const redactor = new Redactor();
let bytes = 0;
/** @type {import('@opentelemetry/sdk-trace').SpanExporter} */
const exporter = {
  export(spans, done) {
    if (stage === 'mapped') {
      /** @type {Record<import('../dist/database/analytics-database.js').TableName, object[]>} */
      const rows = { api_access_log: [], authentication_log: [], external_api_call_log: [] };
      for (const span of spans) {
        const mapped = spanToRow(span, redactor);
        if (mapped) rows[mapped.table].push(mapped.row);
      }
      for (const [table, list] of Object.entries(rows)) {
        bytes += encodeCopyText(TABLE_COLUMNS[/** @type {keyof typeof rows} */ (table)], list).length;
      }
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
  forceFlush: async () => {},
};
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { include: ['http', 'https', 'node:http', 'node:https', 'express'] },
});
const config = resolveConfig({}, { env: readEnv() });
const bsp = new BatchSpanProcessor({ exporter, ...batchSpanProcessorOptions(config) });
const sdk = new NodeSDK({
  instrumentations: createAnalyticsInstrumentations(config),
  spanProcessors: [stage === 'hooks' ? bsp : new AnalyticsSpanProcessor({ ...config, spanProcessor: bsp })],
  sampler: new AlwaysOnSampler(),
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.once(
  'SIGTERM',
  () => void sdk.shutdown().finally(() => process.exit(bytes > 0 || stage !== 'mapped' ? 0 : 1)),
);

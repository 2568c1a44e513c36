// The ingest benchmark: PostgresSpanExporter's rows per second for a mixed stream of finished
// spans (80% API requests, 10% auth events, 10% external calls), against `psql \copy` of the
// same rows into the same tables, with the same indexes and constraints, in the same run.
// `npm run bench:ingest`. BENCH_INGEST_ROWS (100000), BENCH_ROUNDS (3).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../dist/admin/migrate.js';
import { PostgresSpanExporter } from '../dist/exporter/index.js';
import { spanToRow } from '../dist/exporter/span-to-row.js';
import { TABLE_COLUMNS } from '../dist/database/analytics-database.js';
import { Redactor } from '../dist/src/privacy/redactor.js';
import { fakeSpan } from '../dev/spans.ts';
import { startBenchPostgres } from './postgres.mjs';
import { median } from './summarize.mjs';

const ROWS = Number(process.env.BENCH_INGEST_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 512;

/** @typedef {ReturnType<typeof fakeSpan>} Span */
/** @typedef {import('../dist/database/analytics-database.js').TableName} TableName */

/**
 * The i-th span of the stream: the tests' finished-span factory, at times a millisecond apart.
 * @param {number} i
 * @param {import('@opentelemetry/api').SpanKind} kind
 * @param {string} scope
 * @param {import('@opentelemetry/api').Attributes} attributes
 */
function span(i, kind, scope, attributes) {
  return fakeSpan({
    kind,
    scope,
    attributes,
    startTime: [1_780_000_000 + Math.floor(i / 1000), (i % 1000) * 1_000_000 + 123],
    durationMillis: 5,
    status: { code: i % 50 === 0 ? 2 : 0 },
    serviceName: 'bench',
  });
}

/** The mixed stream, the same every round. */
function spans() {
  const out = [];
  for (let i = 0; i < ROWS; i++) {
    const m = i % 10;
    if (m < 8) {
      out.push(
        span(i, 1, '@opentelemetry/instrumentation-http', {
          'analytics.record': 'api',
          'http.request.method': i % 3 ? 'GET' : 'POST',
          'url.path': `/api/items/${i % 5000}`,
          'http.route': '/api/items/:id',
          'url.query': `page=${i % 7}&sort=name`,
          'http.response.status_code': i % 50 === 0 ? 500 : 200,
          'network.peer.address': `10.0.${i % 250}.${i % 200}`,
          'analytics.client.address': `203.0.113.${i % 250}`,
          'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench',
          'http.request.body.size': i % 3 ? 0 : 512,
          'http.response.body.size': 2048,
          'enduser.id': `user-${i % 1000}`,
          'analytics.sample_weight': 1,
        }),
      );
    } else if (m === 8) {
      out.push(
        span(i, 0, 'otel-pg-analytics', {
          'analytics.record': 'auth',
          'analytics.auth.event_type': i % 20 === 8 ? 'login_failed' : 'login',
          'analytics.auth.success': i % 20 !== 8,
          'enduser.id': `user-${i % 1000}`,
          'analytics.client.address': `203.0.113.${i % 250}`,
          'analytics.auth.metadata': '{"method":"password"}',
        }),
      );
    } else {
      out.push(
        span(i, 2, '@opentelemetry/instrumentation-undici', {
          'analytics.record': 'external',
          'http.request.method': 'POST',
          'url.full':
            'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
          'server.address': 'generativelanguage.googleapis.com',
          'http.response.status_code': 200,
          'service.peer.name': 'gemini',
          'gen_ai.provider.name': 'gcp.gemini',
          'gen_ai.response.model': 'gemini-2.5-flash',
          'gen_ai.usage.input_tokens': 120,
          'gen_ai.usage.output_tokens': 80,
          'analytics.cost.usd': 0.000236,
          'enduser.id': `user-${i % 1000}`,
        }),
      );
    }
  }
  return out;
}

/** @param {string} url */
async function truncate(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('truncate api_access_log, authentication_log, external_api_call_log');
  await client.end();
}

/**
 * @param {string} url
 * @param {Span[]} stream
 */
async function viaExporter(url, stream) {
  await truncate(url);
  const exporter = new PostgresSpanExporter({ connectionString: url, statsIntervalMillis: 0 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i += BATCH) {
    // A BatchSpanProcessor hands over batches as fast as export() returns; the exporter's
    // queue is bounded (10,000 rows), so the stream waits for room as a busy app's would drop.
    while (exporter.getStats().queuedRows > 8_000) await new Promise((r) => setTimeout(r, 1));
    await new Promise((resolve) => exporter.export(stream.slice(i, i + BATCH), resolve));
  }
  await exporter.forceFlush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const { droppedRows, rejectedRows } = exporter.getStats();
  await exporter.shutdown();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    `select (select count(*) from api_access_log) + (select count(*) from authentication_log)
       + (select count(*) from external_api_call_log) as n`,
  );
  await client.end();
  if (Number(rows[0].n) !== stream.length) {
    throw new Error(
      `the exporter wrote ${rows[0].n} of ${stream.length} rows: dropped ${JSON.stringify(droppedRows)}, rejected ${JSON.stringify(rejectedRows)}`,
    );
  }
  return {
    seconds,
    rowsPerSecond: stream.length / seconds,
    cpuMicrosPerRow: (cpu.user + cpu.system) / stream.length,
  };
}

/** @param {string | number | boolean | null | undefined} value  a row's value, as the exporter sends it */
function csvValue(value) {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * CSV files of the same rows, per table, written before the clock starts.
 * @param {Span[]} stream
 * @param {string} dir
 */
function csvFiles(stream, dir) {
  const redactor = new Redactor();
  /** @type {Record<TableName, string[]>} */
  const lines = { api_access_log: [], authentication_log: [], external_api_call_log: [] };
  for (const s of stream) {
    const { table, row } = /** @type {import('../dist/database/analytics-database.js').TableRow} */ (
      spanToRow(s, redactor)
    );
    lines[table].push(TABLE_COLUMNS[table].map((c) => csvValue(Reflect.get(row, c.name))).join(','));
  }
  return Object.entries(lines).map(([table, rows]) => {
    const file = path.join(dir, `${table}.csv`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    return { table, file, columns: TABLE_COLUMNS[/** @type {TableName} */ (table)].map((c) => c.name) };
  });
}

/**
 * @param {string} url
 * @param {ReturnType<typeof csvFiles>} files
 */
async function viaCopy(url, files) {
  await truncate(url);
  const t0 = performance.now();
  for (const { table, file, columns } of files) {
    const result = spawnSync(
      'psql',
      [
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        url,
        '-c',
        `\\copy ${table} (${columns.join(', ')}) from '${file}' with (format csv)`,
      ],
      {
        encoding: 'utf8',
      },
    );
    if (result.status !== 0) throw new Error(`psql \\copy failed: ${result.stderr || result.error}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, rowsPerSecond: ROWS / seconds };
}

const postgres = await startBenchPostgres();
await migrate(postgres.url);
const stream = spans();
const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-bench-ingest-'));
const files = csvFiles(stream, dir);
const exporterRuns = [];
const copyRuns = [];
for (let round = 1; round <= ROUNDS; round++) {
  // Alternate which goes first, so neither always meets a cold (or a bloated) table.
  const pair = round % 2 ? ['exporter', 'copy'] : ['copy', 'exporter'];
  for (const what of pair) {
    if (what === 'exporter') exporterRuns.push(await viaExporter(postgres.url, stream));
    else copyRuns.push(await viaCopy(postgres.url, files));
    const last = /** @type {{ rowsPerSecond: number }} */ (
      what === 'exporter' ? exporterRuns.at(-1) : copyRuns.at(-1)
    );
    process.stderr.write(`round ${round} ${what}: ${last.rowsPerSecond.toFixed(0)} rows/s\n`);
  }
}
rmSync(dir, { recursive: true, force: true });
const exporterRate = median(exporterRuns.map((r) => r.rowsPerSecond));
const copyRate = median(copyRuns.map((r) => r.rowsPerSecond));
const table = [
  `Ingest of ${ROWS} mixed rows (80% API, 10% auth, 10% external), ${ROUNDS} rounds, medians, ${postgres.description}:`,
  '',
  '| path | rows/s | Node CPU µs/row |',
  '| --- | ---: | ---: |',
  `| PostgresSpanExporter (spans → rows → COPY batches of up to 1000) | ${exporterRate.toFixed(0)} | ${median(exporterRuns.map((r) => r.cpuMicrosPerRow)).toFixed(1)} |`,
  `| psql \\copy (CSV of the same rows) | ${copyRate.toFixed(0)} | – |`,
  `| ratio exporter / copy | ${(exporterRate / copyRate).toFixed(2)} | |`,
].join('\n');
process.stdout.write(`\n${table}\n`);
await postgres.stop();

// The overhead benchmark: scenarios (bench/scenarios.mjs: hello, post-json, outbound, express,
// realistic) × modes, interleaved over rounds, medians, ratios and issue 16's targets.
// `npm run bench` (builds first). Options by env: BENCH_ROUNDS (3), BENCH_REQUESTS (50000),
// BENCH_WARMUP (10000 requests first, 25000 for realistic, unmeasured: the JIT compiles the pipeline's code then),
// BENCH_RATE (300 req/s for the latency phase), BENCH_LATENCY_SECONDS (5), BENCH_CONNECTIONS
// (10), BENCH_SCENARIOS / BENCH_MODES (comma lists; besides bare, floor, stock and ours, the
// stages between floor and ours: hooks, processor, mapped, see bench/stages.mjs),
// BENCH_DATABASE_URL (an admin URL; default the local server, else an embedded one as the
// tests use; `embedded` for that one always). The CPU window ends once the mode's export of
// the requests served has arrived (rows in PostgreSQL, spans at the OTLP sink), so export
// work is counted for every mode. The whole system (app + relay + PostgreSQL): bench/system.mjs.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../dist/admin/migrate.js';
import { createAppDatabase } from './app-database.mjs';
import { countRows } from './count-rows.mjs';
import { fixedRate } from './fixed-rate.mjs';
import { cannon, processStats, startServer, startSink, waitForCount } from './harness.mjs';
import { startBenchPostgres } from './postgres.mjs';
import { SCENARIOS as SCENARIO_OF, describeWarmup, scenariosOf, warmupOf } from './scenarios.mjs';
import { summarize } from './summarize.mjs';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SCENARIOS = scenariosOf(process.env.BENCH_SCENARIOS ?? 'hello,post-json,outbound,express,realistic');
const MODES = (process.env.BENCH_MODES ?? 'bare,floor,stock,ours').split(',');
/** @typedef {import('./scenarios.mjs').ScenarioName} Scenario */
/** @typedef {Awaited<ReturnType<typeof startSink>>} Sink */

/**
 * Waits until what the mode exports for the requests served so far has left the process (rows
 * in the database for "ours", spans at the OTLP sink for "stock"), so the CPU measured includes
 * the export. Gives what arrived and what was expected.
 * @param {object} run
 * @param {string} run.mode
 * @param {Scenario} run.scenario
 * @param {number} run.served  requests answered so far
 * @param {string} run.service
 * @param {Sink} run.sink
 * @param {number} run.sinkBefore  spans at the sink before the run
 * @param {pg.Client} run.db
 * @param {Date} run.since
 */
async function drain({ mode, scenario, served, service, sink, sinkBefore, db, since }) {
  if (mode === 'ours') {
    // Every row: an outbound request's external call as well as the request itself.
    const expected = served * SCENARIO_OF[scenario].rowsPerRequest;
    return { arrived: await waitForCount(() => countRows(db, service, since), expected), expected };
  }
  if (mode === 'stock') {
    const expected = served * SCENARIO_OF[scenario].spansPerRequest;
    return { arrived: await waitForCount(() => sink.spans() - sinkBefore, expected), expected };
  }
  return null;
}

/**
 * One scenario in one mode: warm-up, saturated load (CPU, throughput), fixed-rate load
 * (latency), then the rows counted and the tables emptied (and the app's own database, if it
 * has one, put back as it was).
 * @param {object} run
 * @param {Scenario} run.scenario
 * @param {string} run.mode
 * @param {number} run.round
 * @param {string} run.stubUrl
 * @param {Sink} run.sink
 * @param {string} run.databaseUrl
 * @param {pg.Client} run.db
 * @param {Awaited<ReturnType<typeof createAppDatabase>>} [run.appDatabase]
 * @returns {Promise<import('./summarize.mjs').Run>}
 */
async function runOne({ scenario, mode, round, stubUrl, sink, databaseUrl, db, appDatabase }) {
  const service = `bench-${scenario}-${round}`;
  const since = new Date();
  const server = startServer(
    mode,
    {
      STUB_URL: stubUrl,
      OTLP_SINK_URL: sink.url,
      OTEL_ANALYTICS_DATABASE_URL: databaseUrl,
      OTEL_SERVICE_NAME: service,
      OTEL_ANALYTICS_SPOOL_DIR: path.join(os.tmpdir(), `pga-bench-spool-${process.pid}`),
      ...(appDatabase && { APP_DATABASE_URL: appDatabase.url }),
    },
    SCENARIO_OF[scenario].app,
  );
  const url = await server.url;
  const request = SCENARIO_OF[scenario].requests;
  const sinkBefore = sink.spans();
  const warm = await cannon(url, request, { amount: warmupOf(scenario) });
  // The warm-up's export is not part of the measured window.
  await drain({ mode, scenario, served: warm['2xx'], service, sink, sinkBefore, db, since });
  const before = processStats(server.child.pid);
  const t0 = performance.now();
  const load = await cannon(url, request, { amount: REQUESTS });
  const seconds = (load.lastResponseAt - t0) / 1000;
  const exported = await drain({
    mode,
    scenario,
    served: warm['2xx'] + load['2xx'],
    service,
    sink,
    sinkBefore,
    db,
    since,
  });
  const after = processStats(server.child.pid);
  const latency = await fixedRate(url, request, {
    rate: RATE,
    seconds: LATENCY_SECONDS,
    connections: CONNECTIONS,
  });
  const { rss } = processStats(server.child.pid);
  server.child.kill('SIGTERM');
  await server.exited;
  const served = warm['2xx'] + load['2xx'] + latency.ok;
  // Rows versus every request served (the latency phase and the flush at SIGTERM included),
  // then the tables emptied: each run writes into the same small tables, not into the growing
  // indexes of every run before it (that is PostgreSQL's cost, and it landed on the app's CPU
  // through the two cores they share).
  const rows = mode === 'ours' ? await countRows(db, service, since) : undefined;
  const expectedRows = mode === 'ours' ? served * SCENARIO_OF[scenario].rowsPerRequest : undefined;
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
  await appDatabase?.reset();
  return {
    scenario,
    mode,
    round,
    cpuMicrosPerRequest: ((after.cpu - before.cpu) * 1e6) / load['2xx'],
    v8MicrosPerRequest: ((after.v8Cpu - before.v8Cpu) * 1e6) / load['2xx'],
    throughput: load['2xx'] / seconds,
    errors: load.errors + load.non2xx + warm.non2xx + latency.failed,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    rssMiB: rss / 1024 / 1024,
    served,
    service,
    exported,
    rows,
    expectedRows,
  };
}

async function main() {
  const postgres = await startBenchPostgres();
  const stub = await startSink();
  const sink = await startSink();
  await migrate(postgres.url);
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const appDatabase = SCENARIOS.some((s) => SCENARIO_OF[s].appDatabase)
    ? await createAppDatabase(postgres.url)
    : undefined;
  const runs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      // Rotate the order each round, so no mode always runs first (or last) on a warm machine.
      const modes = MODES.map((_, i) => /** @type {string} */ (MODES[(i + round - 1) % MODES.length]));
      for (const mode of modes) {
        const run = await runOne({
          scenario,
          mode,
          round,
          stubUrl: stub.url,
          sink,
          databaseUrl: postgres.url,
          db,
          ...(SCENARIO_OF[scenario].appDatabase && { appDatabase }),
        });
        runs.push(run);
        process.stderr.write(
          `round ${round} ${scenario} ${mode}: ${run.cpuMicrosPerRequest.toFixed(1)} µs/req (V8 threads ${run.v8MicrosPerRequest?.toFixed(1)}), ${run.throughput.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(2)} ms${run.exported ? `, exported ${run.exported.arrived}/${run.exported.expected}` : ''}\n`,
        );
      }
    }
  }
  await db.end();
  await appDatabase?.drop();

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${postgres.description}`;
  const settings = {
    rounds: ROUNDS,
    requests: REQUESTS,
    warmup: describeWarmup(SCENARIOS),
    connections: CONNECTIONS,
    rate: RATE,
    latencySeconds: LATENCY_SECONDS,
  };
  const { summary, ratios, stages, table } = summarize({ machine, settings, runs });
  process.stdout.write(`\n${table}`);
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(ROOT, 'bench/results/latest.json'),
    JSON.stringify({ machine, settings, runs, summary, ratios, stages }, null, 2),
  );
  writeFileSync(path.join(ROOT, 'bench/results/latest.md'), table);
  stub.server.close();
  sink.server.close();
  await postgres.stop();
}

await main();

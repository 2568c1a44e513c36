// The whole-system benchmark (issue 16's target 2): the same rows in PostgreSQL two ways, and the
// CPU each way costs the machine. "ours": the app under `--import otel-pg-analytics/register`,
// writing its rows itself. "ingest": the app under stock OpenTelemetry (bench/stock.mjs: a
// BatchSpanProcessor and the OTLP/HTTP exporter) sending to `otel-pg-analytics ingest`, which
// writes them. CPU is the app's + the relay's (ingest's) + every process of the PostgreSQL
// cluster's (bench/postgres-cpu.mjs, the benchmark's own connection left out), from the first
// measured request until the last row is in; rows must equal what the requests served make.
// `npm run bench:system` (builds first). Options by env: BENCH_ROUNDS (3), BENCH_REQUESTS
// (50000), BENCH_WARMUP (10000, 25000 for realistic, unmeasured, and their rows awaited first), BENCH_CONNECTIONS
// (10), BENCH_SCENARIOS (all of bench/scenarios.mjs), BENCH_OTLP_PROTOCOL (http/json, or
// http/protobuf), BENCH_DATABASE_URL (as bench/run.mjs). PostgreSQL must run on this machine
// (its processes are read from /proc), and nothing else should use it meanwhile: the cluster's
// CPU is all of it, every database's.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../dist/admin/migrate.js';
import { createAppDatabase } from './app-database.mjs';
import { countRows } from './count-rows.mjs';
import { cannon, processStats, startRelay, startServer, startSink, waitForCount } from './harness.mjs';
import { clusterCpuSeconds, postmasterOf } from './postgres-cpu.mjs';
import { startBenchPostgres } from './postgres.mjs';
import { SCENARIOS as SCENARIO_OF, describeWarmup, scenariosOf, warmupOf } from './scenarios.mjs';
import { median } from './summarize.mjs';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SCENARIOS = scenariosOf(process.env.BENCH_SCENARIOS ?? Object.keys(SCENARIO_OF).join(','));
const PROTOCOL = process.env.BENCH_OTLP_PROTOCOL ?? 'http/json';
if (PROTOCOL !== 'http/json' && PROTOCOL !== 'http/protobuf') {
  throw new Error(`BENCH_OTLP_PROTOCOL must be http/json or http/protobuf, not ${PROTOCOL}`);
}
const PATHS = /** @type {const} */ (['ours', 'ingest']);
/** Target 2: the whole system under ours costs at most this much of stock → ingest's. */
const TARGET = 0.7;

/**
 * @typedef {object} SystemRun  one scenario, one path, one round
 * @property {string} scenario
 * @property {'ours' | 'ingest'} path
 * @property {number} round
 * @property {number} appMicros  CPU µs per measured request: the app
 * @property {number} relayMicros  the relay (0 for ours)
 * @property {number} postgresMicros  the PostgreSQL cluster
 * @property {number} seconds  the window, first request to last row
 * @property {number} idlePercent  the cluster's CPU in the second before, % of a core
 * @property {number} served  requests answered (warm-up and load)
 * @property {number} rows  rows written, counted once the app and the relay have stopped
 * @property {number} arrivedInWindow  rows in when the window closed (fewer: it closed on a 6 s lull)
 * @property {number} expectedRows  rows the requests served make
 * @property {number} errors
 */

/**
 * CPU seconds so far of the app, the relay (if any) and the cluster.
 * @param {{ app: number | undefined, relay: number | undefined, postmaster: number, monitor: number }} pids
 */
function cpuNow({ app, relay, postmaster, monitor }) {
  return {
    app: processStats(app).cpu,
    relay: relay === undefined ? 0 : processStats(relay).cpu,
    postgres: clusterCpuSeconds(postmaster, [monitor]),
  };
}

/**
 * One scenario one way: the relay (for "ingest") and the app started, the warm-up's rows
 * awaited, then the measured requests and the window until their rows are all in.
 * @param {object} run
 * @param {import('./scenarios.mjs').ScenarioName} run.scenario
 * @param {'ours' | 'ingest'} run.path
 * @param {number} run.round
 * @param {string} run.stubUrl
 * @param {string} run.databaseUrl
 * @param {pg.Client} run.db
 * @param {number} run.postmaster
 * @param {number} run.monitor  the backend of `db`
 * @param {Awaited<ReturnType<typeof createAppDatabase>>} [run.appDatabase]
 * @returns {Promise<SystemRun>}
 */
async function runOne({
  scenario,
  path: way,
  round,
  stubUrl,
  databaseUrl,
  db,
  postmaster,
  monitor,
  appDatabase,
}) {
  const { app, requests, rowsPerRequest } = SCENARIO_OF[scenario];
  const service = `system-${scenario}-${round}`;
  const since = new Date();
  const spoolDir = path.join(os.tmpdir(), `pga-bench-system-spool-${process.pid}`);
  const relay =
    way === 'ingest'
      ? startRelay({ OTEL_ANALYTICS_DATABASE_URL: databaseUrl, OTEL_ANALYTICS_SPOOL_DIR: spoolDir })
      : undefined;
  const relayUrl = await relay?.url;
  const server = startServer(
    way === 'ours' ? 'ours' : 'stock',
    {
      STUB_URL: stubUrl,
      OTEL_SERVICE_NAME: service,
      OTEL_ANALYTICS_DATABASE_URL: databaseUrl,
      OTEL_ANALYTICS_SPOOL_DIR: spoolDir,
      OTLP_PROTOCOL: PROTOCOL,
      ...(relayUrl !== undefined && { OTLP_SINK_URL: relayUrl }),
      ...(appDatabase && { APP_DATABASE_URL: appDatabase.url }),
    },
    app,
  );
  const url = await server.url;
  const pids = { app: server.child.pid, relay: relay?.child.pid, postmaster, monitor };
  const rows = () => countRows(db, service, since);
  const warm = await cannon(url, requests, { amount: warmupOf(scenario) });
  await waitForCount(rows, warm['2xx'] * rowsPerRequest);
  // The cluster's CPU over a second with nothing sent: what the window would count that is no
  // one's pipeline (other databases' work, or the warm-up's autovacuum).
  const idle = clusterCpuSeconds(postmaster, [monitor]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idlePercent = (clusterCpuSeconds(postmaster, [monitor]) - idle) * 100;
  const before = cpuNow(pids);
  const t0 = performance.now();
  const load = await cannon(url, requests, { amount: REQUESTS });
  const served = warm['2xx'] + load['2xx'];
  const arrived = await waitForCount(rows, served * rowsPerRequest);
  const after = cpuNow(pids);
  const seconds = (performance.now() - t0) / 1000;
  server.child.kill('SIGTERM');
  await server.exited;
  relay?.child.kill('SIGTERM');
  await relay?.exited;
  // Counted again once both have stopped (and flushed): a row beyond those awaited would be a
  // duplicate, one short a loss.
  const written = await rows();
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
  await appDatabase?.reset();
  const per = (/** @type {number} */ s) => (s * 1e6) / load['2xx'];
  return {
    scenario,
    path: way,
    round,
    appMicros: per(after.app - before.app),
    relayMicros: per(after.relay - before.relay),
    postgresMicros: per(after.postgres - before.postgres),
    seconds,
    idlePercent,
    served,
    rows: written,
    arrivedInWindow: arrived,
    expectedRows: served * rowsPerRequest,
    errors: warm.errors + warm.non2xx + load.errors + load.non2xx,
  };
}

/**
 * The tables: medians per scenario and path, and ours / ingest per round, its median.
 * @param {SystemRun[]} runs
 * @param {string} header
 */
function tables(runs, header) {
  const lines = [
    '| scenario | path | app µs/req | relay µs/req | PostgreSQL µs/req | total µs/req | rows |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  const total = (/** @type {SystemRun} */ r) => r.appMicros + r.relayMicros + r.postgresMicros;
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    for (const way of PATHS) {
      const mine = runs.filter((r) => r.scenario === scenario && r.path === way);
      if (mine.length === 0) continue;
      const m = (/** @type {(r: SystemRun) => number} */ f) => median(mine.map(f)).toFixed(0);
      const rows = `${mine.reduce((n, r) => n + r.rows, 0)} / ${mine.reduce((n, r) => n + r.expectedRows, 0)}`;
      const label = way === 'ours' ? 'ours' : `stock → ingest (${PROTOCOL})`;
      lines.push(
        `| ${scenario} | ${label} | ${m((r) => r.appMicros)} | ${m((r) => r.relayMicros)} | ${m((r) => r.postgresMicros)} | ${m(total)} | ${rows} |`,
      );
    }
  }
  lines.push(
    '',
    `| scenario | ours / (stock → ingest) CPU | target ≤ ${TARGET} met |`,
    '| --- | ---: | --- |',
  );
  /** @type {Record<string, number | null>} */
  const ratios = {};
  for (const scenario of scenarios) {
    const perRound = [...new Set(runs.map((r) => r.round))].map((round) => {
      const find = (/** @type {string} */ way) =>
        runs.find((r) => r.scenario === scenario && r.path === way && r.round === round);
      const ours = find('ours');
      const ingest = find('ingest');
      return ours && ingest ? total(ours) / total(ingest) : Number.NaN;
    });
    const ratio = median(perRound);
    ratios[scenario] = Number.isNaN(ratio) ? null : ratio;
    const shown = Number.isNaN(ratio) ? '–' : ratio.toFixed(2);
    lines.push(`| ${scenario} | ${shown} | ${Number.isNaN(ratio) ? '–' : ratio <= TARGET ? 'yes' : 'no'} |`);
  }
  return { ratios, table: `${header}\n\n${lines.join('\n')}\n` };
}

async function main() {
  const postgres = await startBenchPostgres();
  await migrate(postgres.url);
  const stub = await startSink();
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const postmaster = await postmasterOf(db);
  const monitor = Number((await db.query('select pg_backend_pid() as pid')).rows[0].pid);
  const appDatabase = SCENARIOS.some((s) => SCENARIO_OF[s].appDatabase)
    ? await createAppDatabase(postgres.url)
    : undefined;
  /** @type {SystemRun[]} */
  const runs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      // Alternate which goes first, so neither always meets a warm (or a bloated) cluster.
      const order = round % 2 ? PATHS : [...PATHS].reverse();
      for (const way of order) {
        const run = await runOne({
          scenario,
          path: way,
          round,
          stubUrl: stub.url,
          databaseUrl: postgres.url,
          db,
          postmaster,
          monitor,
          ...(SCENARIO_OF[scenario].appDatabase && { appDatabase }),
        });
        runs.push(run);
        process.stderr.write(
          `round ${round} ${scenario} ${way}: app ${run.appMicros.toFixed(0)} + relay ${run.relayMicros.toFixed(0)} + PostgreSQL ${run.postgresMicros.toFixed(0)} µs/req, ${run.rows}/${run.expectedRows} rows in ${run.seconds.toFixed(1)} s; PostgreSQL idle before: ${run.idlePercent.toFixed(1)}% of a core\n`,
        );
      }
    }
  }
  await db.end();
  await appDatabase?.drop();
  stub.server.close();

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${postgres.description}`;
  const settings = {
    rounds: ROUNDS,
    requests: REQUESTS,
    warmup: describeWarmup(SCENARIOS),
    connections: CONNECTIONS,
    protocol: PROTOCOL,
  };
  const idle = Math.max(...runs.map((r) => r.idlePercent));
  const header = `Machine: ${machine}\nRounds: ${ROUNDS}, ${REQUESTS} requests per run after ${describeWarmup(SCENARIOS)} unmeasured (${CONNECTIONS} connections), OTLP ${PROTOCOL}; CPU of app + relay + PostgreSQL cluster from the first request to the last row; medians, the ratio as the median of each round's.\nThe cluster idle, in the second before each run: at most ${idle.toFixed(1)}% of a core${idle > 2 ? ' (something else used it: its CPU counts in these figures)' : ''}.`;
  const { ratios, table } = tables(runs, header);
  process.stdout.write(`\n${table}`);
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(ROOT, 'bench/results/system.json'),
    JSON.stringify({ machine, settings, runs, ratios }, null, 2),
  );
  writeFileSync(path.join(ROOT, 'bench/results/system.md'), table);
  await postgres.stop();
  const lost = runs.filter((r) => r.rows !== r.expectedRows || r.errors > 0);
  if (lost.length > 0) {
    process.stderr.write(
      `\nrows written differ from the requests served (or requests failed) in: ${lost.map((r) => `${r.scenario} ${r.path} round ${r.round} (${r.rows}/${r.expectedRows} rows, ${r.errors} errors)`).join('; ')}\n`,
    );
    process.exitCode = 1;
  }
}

await main();

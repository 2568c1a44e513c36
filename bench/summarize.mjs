// Medians and ratios of a benchmark's runs, as tables. Used by bench/run.mjs; also on its own,
// to print the tables of an earlier run again: `node bench/summarize.mjs [bench/results/latest.json]`.
//
// Ratios are taken within each round (the modes of a scenario run one after another, minutes
// apart at most) and their median reported: this machine's speed drifts between rounds by more
// than the differences measured, and a ratio of medians would mix rounds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { targetsOf } from './scenarios.mjs';

/**
 * @typedef {object} Run  one scenario in one mode in one round of bench/run.mjs
 * @property {string} scenario
 * @property {string} mode
 * @property {number} round
 * @property {number} cpuMicrosPerRequest
 * @property {number} [v8MicrosPerRequest]  the part of it on V8's own threads (GC helpers,
 *   background compilation); absent from results written before it was recorded
 * @property {number} throughput  requests per second, saturated
 * @property {number} errors
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {number} rssMiB
 * @property {number} served  requests answered in every phase
 * @property {string} service
 * @property {{ arrived: number, expected: number } | null} exported  null for modes that export nothing
 * @property {number} [rows]  rows in PostgreSQL ("ours" only): requests and external calls
 * @property {number} [expectedRows]  rows the requests served should have made (results written
 *   before this was recorded counted requests only, one row each)
 */

/**
 * @typedef {object} Settings  a run's settings, from its BENCH_* variables
 * @property {number} rounds
 * @property {number} requests
 * @property {number | string} warmup  unmeasured requests per run (`10000 (realistic 25000)`)
 * @property {number} connections
 * @property {number} rate
 * @property {number} latencySeconds
 */

/**
 * The median of the finite values; NaN when there are none.
 * @param {readonly number[]} values
 */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  const at = (/** @type {number} */ i) => /** @type {number} */ (sorted[i]);
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/**
 * What reached the destination: rows versus the rows the requests served make for "ours" (every
 * phase and the flush at exit; an outbound request makes two), spans at the OTLP sink versus
 * spans made by the warm-up and load for "stock" (its BatchSpanProcessor drops what does not fit
 * its queue).
 * @param {string} mode
 * @param {Run[]} runs
 */
function recordedOf(mode, runs) {
  const sum = (/** @type {(run: Run) => number} */ f) => runs.reduce((n, r) => n + f(r), 0);
  if (mode === 'ours') return `${sum((r) => r.rows ?? 0)} / ${sum((r) => r.expectedRows ?? r.served)} rows`;
  if (mode === 'stock')
    return `${sum((r) => r.exported?.arrived ?? 0)} / ${sum((r) => r.exported?.expected ?? 0)} spans`;
  return '';
}

/**
 * The median over rounds of `f(a, b)` for the runs of modes `a` and `b` in the same round.
 * @param {Run[]} runs
 * @param {string} scenario
 * @param {string} a
 * @param {string} b
 * @param {(x: Run, y: Run) => number} f
 */
function perRound(runs, scenario, a, b, f) {
  const rounds = [...new Set(runs.map((r) => r.round))];
  const values = rounds.map((round) => {
    const x = runs.find((r) => r.scenario === scenario && r.mode === a && r.round === round);
    const y = runs.find((r) => r.scenario === scenario && r.mode === b && r.round === round);
    return x && y ? f(x, y) : Number.NaN;
  });
  const m = median(values);
  return Number.isNaN(m) ? null : m;
}

/** How the targets' ratios are named in the tables. */
const RATIO_LABELS = {
  oursOverStock: 'ours / stock CPU',
  oursOverFloor: 'ours / floor CPU',
  oursOverBare: 'ours / bare CPU',
  p99AddedMs: 'p99 ours − bare',
};

/**
 * `{ summary, ratios, stages, table }` of a run's `{ machine, settings, runs }`.
 * @param {{ machine: string, settings: Settings, runs: Run[] }} result
 */
export function summarize({ machine, settings, runs }) {
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  const modes = [...new Set(runs.map((r) => r.mode))];
  const summary = [];
  for (const scenario of scenarios) {
    for (const mode of modes) {
      const mine = runs.filter((r) => r.scenario === scenario && r.mode === mode);
      if (mine.length === 0) continue;
      summary.push({
        scenario,
        mode,
        cpuMicrosPerRequest: median(mine.map((r) => r.cpuMicrosPerRequest)),
        v8MicrosPerRequest: median(mine.map((r) => r.v8MicrosPerRequest ?? Number.NaN)),
        throughput: median(mine.map((r) => r.throughput)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        rssMiB: median(mine.map((r) => r.rssMiB)),
        errors: mine.reduce((n, r) => n + r.errors, 0),
        recorded: recordedOf(mode, mine),
      });
    }
  }
  const { rate } = settings;
  const f = (/** @type {number | null} */ v, d = 2) => (v === null ? '–' : v.toFixed(d));
  const lines = [
    `| scenario | mode | CPU µs/req | of which V8 threads | req/s (saturated) | p50 ms @${rate}/s | p99 ms @${rate}/s | RSS MiB | recorded |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const s of summary) {
    const v8 = Number.isFinite(s.v8MicrosPerRequest) ? s.v8MicrosPerRequest.toFixed(0) : '–';
    lines.push(
      `| ${s.scenario} | ${s.mode} | ${s.cpuMicrosPerRequest.toFixed(0)} | ${v8} | ${s.throughput.toFixed(0)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.rssMiB.toFixed(0)} | ${s.recorded} |`,
    );
  }
  const cpu = (/** @type {Run} */ x, /** @type {Run} */ y) => x.cpuMicrosPerRequest / y.cpuMicrosPerRequest;
  /** @type {Record<string, Record<string, number | null>>} */
  const ratios = {};
  lines.push(
    '',
    '| scenario | ours / stock CPU | ours / floor CPU | ours / bare CPU | stock / floor CPU | floor / bare CPU | p99 ours − bare (ms) | p99 ours − stock (ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const scenario of scenarios) {
    const r = {
      oursOverStock: perRound(runs, scenario, 'ours', 'stock', cpu),
      oursOverFloor: perRound(runs, scenario, 'ours', 'floor', cpu),
      oursOverBare: perRound(runs, scenario, 'ours', 'bare', cpu),
      stockOverFloor: perRound(runs, scenario, 'stock', 'floor', cpu),
      floorOverBare: perRound(runs, scenario, 'floor', 'bare', cpu),
      p99AddedMs: perRound(runs, scenario, 'ours', 'bare', (x, y) => x.p99Ms - y.p99Ms),
      p99OverStockMs: perRound(runs, scenario, 'ours', 'stock', (x, y) => x.p99Ms - y.p99Ms),
    };
    ratios[scenario] = r;
    lines.push(
      `| ${scenario} | ${f(r.oursOverStock)} | ${f(r.oursOverFloor)} | ${f(r.oursOverBare)} | ${f(r.stockOverFloor)} | ${f(r.floorOverBare)} | ${f(r.p99AddedMs)} | ${f(r.p99OverStockMs)} |`,
    );
  }
  // Issue 16's targets: target 1 for the small apps, target 3 for the realistic one.
  lines.push('', '| scenario | target | measured | met |', '| --- | --- | ---: | --- |');
  for (const scenario of scenarios) {
    for (const { ratio, limit } of targetsOf(scenario)) {
      const value = ratios[scenario]?.[ratio] ?? null;
      const met = value === null ? '–' : value <= limit ? 'yes' : 'no';
      const unit = ratio === 'p99AddedMs' ? ' ms' : '';
      lines.push(
        `| ${scenario} | ${RATIO_LABELS[ratio]} ≤ ${limit.toFixed(2)}${unit} | ${f(value)}${unit} | ${met} |`,
      );
    }
  }
  // Every mode against the floor: where the cost of "ours" goes when the stages ran.
  /** @type {Record<string, Record<string, { overFloor: number | null, microsOverFloor: number | null }>>} */
  const stages = {};
  if (modes.includes('floor') && modes.some((m) => ['hooks', 'processor', 'mapped'].includes(m))) {
    lines.push('', '| scenario | mode | × floor CPU | µs/req over floor |', '| --- | --- | ---: | ---: |');
    for (const scenario of scenarios) {
      for (const mode of modes.filter((m) => m !== 'floor' && m !== 'bare')) {
        const times = perRound(runs, scenario, mode, 'floor', cpu);
        const over = perRound(
          runs,
          scenario,
          mode,
          'floor',
          (x, y) => x.cpuMicrosPerRequest - y.cpuMicrosPerRequest,
        );
        (stages[scenario] ??= {})[mode] = { overFloor: times, microsOverFloor: over };
        lines.push(`| ${scenario} | ${mode} | ${f(times)} | ${f(over, 1)} |`);
      }
    }
  }
  const header = `Machine: ${machine}\nRounds: ${settings.rounds}, ${settings.requests} requests per CPU/throughput run after ${settings.warmup} unmeasured (${settings.connections} connections), latency at ${rate} req/s for ${settings.latencySeconds} s; medians, ratios as the median of each round's.`;
  return { summary, ratios, stages, table: `${header}\n\n${lines.join('\n')}\n` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file =
    process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results/latest.json');
  const result = /** @type {{ machine: string, settings?: Settings, runs: Run[] }} */ (
    JSON.parse(readFileSync(file, 'utf8'))
  );
  // Results written before the settings were recorded ran with the defaults.
  result.settings ??= {
    rounds: Math.max(...result.runs.map((r) => r.round)),
    requests: 50_000,
    warmup: 10_000,
    connections: 10,
    rate: 300,
    latencySeconds: 5,
  };
  process.stdout.write(summarize({ ...result, settings: result.settings }).table);
}

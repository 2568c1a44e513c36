// The benchmarks' scenarios: which app serves them, the requests sent (autocannon cycles through
// a list, each connection in turn), and how many spans stock OpenTelemetry makes per request
// (what the OTLP sink must receive).
const ITEMS_BODY = JSON.stringify({
  items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })),
});
const ITEM_BODY = JSON.stringify({ name: 'renamed item', price: 1299, tags: ['bench', 'updated'] });
const ORDER_BODY = JSON.stringify({
  lines: [
    { sku: 'A-100', quantity: 2, unitCents: 450 },
    { sku: 'B-220', quantity: 1, unitCents: 399 },
  ],
});
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * @typedef {object} Scenario
 * @property {string} app  the server, relative to the package root
 * @property {import('./harness.mjs').BenchRequest[]} requests  sent in turn
 * @property {number} spansPerRequest  spans stock OpenTelemetry makes per request, on average
 * @property {number} rowsPerRequest  rows each request makes in PostgreSQL (its own, and one per
 *   outbound HTTP call)
 * @property {boolean} [appDatabase]  the app reads and writes a database of its own (APP_DATABASE_URL)
 * @property {number} [warmup]  unmeasured requests first, when more than the default's are needed
 *   for the JIT to settle (BENCH_WARMUP overrides it)
 */

/** @typedef {'hello' | 'post-json' | 'outbound' | 'express' | 'realistic'} ScenarioName */

/** @type {Readonly<Record<ScenarioName, Scenario>>} */
export const SCENARIOS = {
  hello: {
    app: 'bench/app.mjs',
    requests: [{ method: 'GET', path: '/hello' }],
    spansPerRequest: 1,
    rowsPerRequest: 1,
  },
  'post-json': {
    app: 'bench/app.mjs',
    requests: [{ method: 'POST', path: '/json', body: ITEMS_BODY, headers: JSON_HEADERS }],
    spansPerRequest: 1,
    rowsPerRequest: 1,
  },
  // The server span, plus the fetch's client span; a row each.
  outbound: {
    app: 'bench/app.mjs',
    requests: [{ method: 'GET', path: '/call' }],
    spansPerRequest: 2,
    rowsPerRequest: 2,
  },
  // The server span, and instrumentation-express's: three middlewares, the JSON parser, the
  // router and the route's handler.
  express: {
    app: 'bench/express-app.mjs',
    requests: [
      { method: 'GET', path: '/api/items/42' },
      { method: 'PUT', path: '/api/items/7', body: ITEM_BODY, headers: JSON_HEADERS },
    ],
    spansPerRequest: 7,
    rowsPerRequest: 1,
  },
  // Express + pg: three reads (two queries each) to one write (a transaction of four). The
  // server span, and instrumentation-express's: four middlewares (the logger's among them), the
  // JSON parser, the router, the handler. No pg spans: neither ours nor stock instruments pg.
  realistic: {
    app: 'bench/realistic-app.mjs',
    requests: [
      { method: 'GET', path: '/api/users/17' },
      { method: 'GET', path: '/api/users/42' },
      { method: 'POST', path: '/api/users/17/orders', body: ORDER_BODY, headers: JSON_HEADERS },
      { method: 'GET', path: '/api/users/99' },
    ],
    spansPerRequest: 8,
    rowsPerRequest: 1,
    appDatabase: true,
    // Its instrumented modes compile until about 20,000–25,000 requests.
    warmup: 25_000,
  },
};

/** Unmeasured requests before a run, unless the scenario needs more (or BENCH_WARMUP says). */
const DEFAULT_WARMUP = 10_000;

/**
 * The unmeasured requests sent before a scenario's measured run: `BENCH_WARMUP` when set, else
 * the scenario's own, else 10,000.
 * @param {ScenarioName} scenario
 */
export function warmupOf(scenario) {
  const set = process.env.BENCH_WARMUP;
  if (set !== undefined && set !== '') return Number(set);
  return SCENARIOS[scenario].warmup ?? DEFAULT_WARMUP;
}

/**
 * The warm-up as the tables' header says it: `10000`, or `10000 (realistic 25000)`.
 * @param {readonly ScenarioName[]} scenarios
 */
export function describeWarmup(scenarios) {
  const set = process.env.BENCH_WARMUP;
  if (set !== undefined && set !== '') return set;
  const own = scenarios.filter((s) => SCENARIOS[s].warmup !== undefined).map((s) => `${s} ${warmupOf(s)}`);
  return own.length > 0 ? `${DEFAULT_WARMUP} (${own.join(', ')})` : String(DEFAULT_WARMUP);
}

/**
 * The scenarios named in a comma list (`BENCH_SCENARIOS`), checked.
 * @param {string} list
 * @returns {ScenarioName[]}
 */
export function scenariosOf(list) {
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !Object.hasOwn(SCENARIOS, name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(', ')}: expected ${Object.keys(SCENARIOS).join(', ')}`);
  }
  return /** @type {ScenarioName[]} */ (names);
}

/**
 * @typedef {object} Target  a bound on one of summarize.mjs's ratios (issue 16)
 * @property {'oursOverStock' | 'oursOverFloor' | 'oursOverBare' | 'p99AddedMs'} ratio
 * @property {number} limit  met when the ratio is at most this
 */

/** Target 1: cheaper than stock OpenTelemetry in the app, near the floor. */
const APP_TARGETS = [
  { ratio: 'oursOverStock', limit: 1.0 },
  { ratio: 'oursOverFloor', limit: 1.15 },
];
/** Target 3: in a realistic app, about what stock costs, near bare, and no latency to speak of. */
const REALISTIC_TARGETS = [
  { ratio: 'oursOverStock', limit: 1.05 },
  { ratio: 'oursOverBare', limit: 1.15 },
  { ratio: 'p99AddedMs', limit: 0.5 },
];

/**
 * The targets a scenario's ratios are held to.
 * @param {string} scenario
 * @returns {readonly Target[]}
 */
export function targetsOf(scenario) {
  return /** @type {readonly Target[]} */ (scenario === 'realistic' ? REALISTIC_TARGETS : APP_TARGETS);
}

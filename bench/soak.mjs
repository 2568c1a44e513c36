// The soak: the full pipeline at the highest rate the app sustains (autocannon saturating it),
// for BENCH_SOAK_SECONDS (60). Prints RSS every 5 s, requests answered, and rows in Postgres.
// `npm run bench:soak`.
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../dist/admin/migrate.js';
import { cannon, processStats, startServer } from './harness.mjs';
import { startBenchPostgres } from './postgres.mjs';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

const postgres = await startBenchPostgres();
await migrate(postgres.url);
const server = startServer('ours', {
  OTEL_ANALYTICS_DATABASE_URL: postgres.url,
  OTEL_SERVICE_NAME: 'bench-soak',
  OTEL_ANALYTICS_SPOOL_DIR: path.join(os.tmpdir(), `pga-bench-soak-${process.pid}`),
});
const url = await server.url;
/** @type {number[]} */
const samples = [];
const sampler = setInterval(() => {
  samples.push(processStats(server.child.pid).rss / 2 ** 20);
}, 5000);
const load = await cannon(url, { method: 'GET', path: '/hello' }, { duration: SECONDS });
clearInterval(sampler);
server.child.kill('SIGTERM');
await server.exited;
const client = new pg.Client({ connectionString: postgres.url });
await client.connect();
const { rows } = await client.query(
  `select (select count(*)::int from api_access_log where service_name = 'bench-soak') as n,
          (select dropped_rows from analytics_pipeline_stats where final order by time desc limit 1) as dropped`,
);
await client.end();
await postgres.stop();
const served = load['2xx'];
const half = Math.floor(samples.length / 2);
const max = (/** @type {number[]} */ xs) => Math.max(...xs);
process.stdout.write(
  [
    `Soak: ${SECONDS} s at saturation (${load.requests.average.toFixed(0)} req/s average), ${postgres.description}`,
    `RSS MiB every 5 s: ${samples.map((m) => m.toFixed(0)).join(' ')}`,
    `RSS peak, first half ${max(samples.slice(0, half)).toFixed(0)} MiB, second half ${max(samples.slice(half)).toFixed(0)} MiB`,
    `requests answered ${served}, errors ${load.errors + load.non2xx}, rows ${rows[0].n}, dropped ${JSON.stringify(rows[0].dropped)}`,
    // autocannon stops counting at the deadline with up to one request per connection still in
    // flight: the app answers (and records) those too.
    `rows − requests counted: ${rows[0].n - served} (expected 0 to ${CONNECTIONS}: requests in flight at the deadline)`,
  ].join('\n') + '\n',
);

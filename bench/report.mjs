// @ts-check
/**
 * `otel-pg-analytics report` over a month of a few million rows: fills a database of its own
 * with the dashboards benchmark's synthetic rows (bench/synthetic-rows.mjs: 30 days; 3M API
 * requests, 300k auth events, 500k external calls by default), then times the report of the
 * last --days days, each way it can read:
 *
 *   sampled  the default: whole hours from the hourly rollups, partial hours from raw rows, and
 *            the parts the rollups do not hold (percentiles, users, per-user tables) from a
 *            sample of about 50,000 rows
 *   exact    the same with every raw row for those parts (`report --exact`)
 *   raw      every number from raw rows, as the report read before the rollups
 *
 *   npm run build && node bench/report.mjs [--api-rows N] [--reuse] [--days N] [--rounds N] [--modes sampled,exact,raw]
 *
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; the
 * database pga_bench_report is created there (kept for --reuse, which skips filling it). The
 * first report of each mode is run unmeasured, so every mode finds the cache as warm.
 */
import { parseArgs } from 'node:util';
import { withTransaction } from '../dist/database/with-transaction.js';
import { readReport } from '../dist/report/read-report.js';
import { chooseBucketSeconds } from '../dist/report/report-data.js';
import { openSyntheticDatabase } from './synthetic-database.mjs';
import { median } from './summarize.mjs';

const { values } = parseArgs({
  options: {
    'api-rows': { type: 'string', default: '3000000' },
    reuse: { type: 'boolean', default: false },
    days: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'sampled,exact,raw' },
  },
});
const apiRows = Number(values['api-rows']);
const name = 'pga_bench_report';
const out = process.stdout;
const DAY = 86_400_000;
const { client, url } = await openSyntheticDatabase(name, { apiRows, reuse: values.reuse, out });
const latest = (await client.query('select max(time) as t from api_access_log')).rows[0].t;
// A log table's rows are its partitions' (daily and default).
const sizes = (
  await client.query(`select regexp_replace(relname, '_(p[0-9]{8}|default)$', '') as relname,
                             sum(n_live_tup)::bigint as rows
                      from pg_stat_user_tables
                      where relname ~ '_log_(p[0-9]{8}|default)$' or relname ~ '^analytics_.*_hourly$'
                      group by 1 order by 1`)
).rows;
await client.end();

// The report's end a few minutes past an hour start and its start likewise: partial hours at
// both ends, as a report run at any time of day has.
const until = new Date(new Date(latest).getTime() + 1000);
const range = { since: new Date(until.getTime() - Number(values.days) * DAY), until };
const bucketSeconds = chooseBucketSeconds(range);
out.write(`tables: ${sizes.map((r) => `${r.relname} ${r.rows}`).join(', ')}\n`);
out.write(`range: ${range.since.toISOString()} .. ${range.until.toISOString()}\n\n`);

/** @type {Record<string, import('../dist/report/report-plan.js').ReportReadOptions>} */
const MODES = {
  sampled: { rollups: true, sampleRows: 50_000 },
  exact: { rollups: true, sampleRows: Infinity },
  raw: { rollups: false, sampleRows: Infinity },
};
const rounds = Number(values.rounds);
out.write(
  '| mode | ms per report (median) | runs (ms) | requests | p95 ms | users |\n| --- | ---: | --- | ---: | ---: | ---: |\n',
);
for (const mode of (values.modes ?? '').split(',')) {
  const options = MODES[mode];
  if (options === undefined) throw new Error(`unknown mode ${mode}: sampled, exact or raw`);
  const report = () =>
    withTransaction(
      {
        connectionString: url,
        applicationName: 'bench/report.mjs',
        statementTimeoutMillis: 300_000,
      },
      (c) => readReport(c, range, bucketSeconds, options),
      { isolationLevel: 'repeatable read', readOnly: true },
    );
  await report();
  /** @type {number[]} */
  const times = [];
  let data;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    data = await report();
    times.push(performance.now() - started);
  }
  const { requests, p95, users } = data?.api.totals ?? {};
  out.write(
    `| ${mode} | ${median(times).toFixed(0)} | ${times.map((t) => t.toFixed(0)).join(', ')} | ${requests} | ${p95?.toFixed(1)} | ${users} |\n`,
  );
}

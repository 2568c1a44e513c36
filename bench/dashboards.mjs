// @ts-check
/**
 * Dashboard queries on a few million rows: fills a database of its own with synthetic rows
 * (bench/synthetic-rows.mjs: 30 days; 3M API requests, 300k auth events, 500k external calls
 * by default), then runs every panel of grafana/dashboards for the last 24 hours under
 * EXPLAIN (ANALYZE, BUFFERS), with Grafana's macros and variables expanded, and prints per
 * panel: the indexes the plan uses, any sequential scan of a log table, rows returned, and the
 * execution time. Speed figures belong here, never in a test.
 *
 *   npm run build && node bench/dashboards.mjs [--api-rows N] [--reuse] [--selected] [--days N]
 *
 * --days 30 runs every panel over the last 30 days: the hourly-rollup panels against the
 * panels that read raw rows.
 *
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; the
 * database pga_bench_dashboards is created there (kept for --reuse, which skips filling it).
 * --selected runs with narrow variable values (an endpoint, a user, a service) instead of All.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ALL, expandGrafanaSql } from '../dev/grafana-sql.ts';
import { openSyntheticDatabase } from './synthetic-database.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    'api-rows': { type: 'string', default: '3000000' },
    reuse: { type: 'boolean', default: false },
    selected: { type: 'boolean', default: false },
    days: { type: 'string', default: '1' },
  },
});
const apiRows = Number(values['api-rows']);
const name = 'pga_bench_dashboards';
const out = process.stdout;
const DAY = 86_400_000;
const now = new Date();
const { client } = await openSyntheticDatabase(name, { apiRows, reuse: values.reuse, out });
const latest = (await client.query('select max(time) as t from api_access_log')).rows[0].t;
const to = new Date(Math.min(now.getTime(), new Date(latest).getTime() + 1000));
const days = Number(values.days);
// Grafana's $__interval for a 30-day range on a dashboard-wide panel is about an hour.
const range = { from: new Date(to.getTime() - days * DAY), to, intervalMs: days > 2 ? 3_600_000 : 300_000 };
const sizes = (
  await client.query(`select relname, n_live_tup::bigint as rows from pg_stat_user_tables
                      where relname like '%_log' order by 1`)
).rows;
out.write(`tables: ${sizes.map((r) => `${r.relname} ${r.rows}`).join(', ')}\n`);
out.write(
  `window: ${range.from.toISOString()} .. ${range.to.toISOString()} ($__interval ${range.intervalMs / 60_000}m)${values.selected ? ', selected values' : ', All'}\n\n`,
);

/** @type {Record<string, string[]>} */
const selected = {
  endpoint: ['/api/search'],
  service: ['gemini'],
  event_type: ['login_failed'],
  status: ['5xx'],
  app: ['shop-api'],
};

/** @param {any} dashboard */
function variablesOf(dashboard) {
  /** @type {Record<string, import('../dev/grafana-sql.ts').GrafanaVariable>} */
  const variables = {};
  for (const v of dashboard.templating.list) {
    const common = { multi: v.multi, includeAll: v.includeAll, allValue: v.allValue };
    if (v.type === 'textbox')
      variables[v.name] = { ...common, value: values.selected && v.name === 'user' ? 'user-3' : '' };
    else if (!v.multi) variables[v.name] = { ...common, value: v.current.value };
    else variables[v.name] = { ...common, value: (values.selected && selected[v.name]) || ALL };
  }
  return variables;
}

/** @param {any} plan @param {{ indexes: Set<string>, seqScans: Set<string> }} found */
function walk(plan, found) {
  if (plan['Index Name']) found.indexes.add(plan['Index Name']);
  // A log table, or one of its partitions (daily or default).
  if (plan['Node Type'] === 'Seq Scan' && /_log(_default|_p\d{8})?$/.test(plan['Relation Name'] ?? ''))
    found.seqScans.add(plan['Relation Name']);
  for (const child of plan.Plans ?? []) walk(child, found);
}

const dir = path.join(root, 'grafana', 'dashboards');
const header = ['dashboard', 'panel', 'indexes used', 'seq scan of', 'rows', 'ms'];
/** @type {string[][]} */
const lines = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const variables = variablesOf(dashboard);
  for (const panel of dashboard.panels) {
    const sql = expandGrafanaSql(panel.targets[0].rawSql, { ...range, variables });
    await client.query(sql); // warm the cache, as a dashboard refresh would find it
    const [
      {
        'QUERY PLAN': [explain],
      },
    ] = (await client.query(`explain (analyze, buffers, format json) ${sql}`)).rows;
    const found = { indexes: new Set(), seqScans: new Set() };
    walk(explain.Plan, found);
    lines.push([
      file.replace('.json', ''),
      panel.title.slice(0, 48),
      [...found.indexes].join(' ') || '-',
      [...found.seqScans].join(' ') || '-',
      String(explain.Plan['Actual Rows']),
      explain['Execution Time'].toFixed(1),
    ]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
const row = (/** @type {string[]} */ cells) =>
  `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |\n`;
out.write(row(header));
out.write(row(widths.map((w) => '-'.repeat(w))));
for (const line of lines) out.write(row(line));
await client.end();

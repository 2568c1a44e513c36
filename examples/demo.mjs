// @ts-check
/**
 * `npm run demo`: an instrumented example app, real traffic, rows in PostgreSQL, a summary.
 *
 * Uses OTEL_ANALYTICS_DATABASE_URL when set, else starts an embedded PostgreSQL. Options:
 *   --app express|http   which example app to run (default: express)
 *   --requests N         how many requests to send (default: 300)
 *   --keep               keep the embedded database running afterwards, for Grafana
 *   --report FILE        where to write the HTML report (default: .demo/report.html)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadReportData, migrate, renderReport } from 'otel-pg-analytics/admin';
// The demo's own queries connect as the package does: sslmode and sslrootcert as in libpq.
import { connectClient } from '../dist/database/connect-client.js';
import { clientConfigOf } from '../dist/database/pg-client-config.js';
import { startEmbeddedPostgres } from '../dev/embedded-postgres.mjs';
import { startStubApis, stubServices } from './stub-apis.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'express' },
    requests: { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
    report: { type: 'string', default: path.join(here, '..', '.demo', 'report.html') },
  },
});
const appFile = values.app === 'http' ? 'http-app.mjs' : 'express-app.cjs';
const totalRequests = Math.max(50, Number(values.requests) || 300);
const out = process.stdout;

// 1. A database.
let databaseUrl = process.env.OTEL_ANALYTICS_DATABASE_URL;
/** @type {(() => Promise<void>) | undefined} */
let stopEmbedded;
if (databaseUrl) {
  out.write(`Using OTEL_ANALYTICS_DATABASE_URL (${databaseUrl.replace(/:[^:@/]*@/, ':***@')})\n`);
} else {
  out.write('Starting an embedded PostgreSQL (set OTEL_ANALYTICS_DATABASE_URL to use your own)...\n');
  const embedded = await startEmbeddedPostgres();
  stopEmbedded = embedded.stop;
  const admin = await connectClient(clientConfigOf(embedded.url));
  await admin.query('create database analytics_demo');
  await admin.end();
  databaseUrl = embedded.url.replace(/\/postgres$/, '/analytics_demo');
}
const migration = await migrate(databaseUrl);
out.write(`Schema at version ${migration.to}.\n`);

// 2. Stubbed external APIs, and a config naming them as the real services.
const stub = await startStubApis();
const configDir = mkdtempSync(path.join(os.tmpdir(), 'otel-pg-analytics-demo-'));
const configFile = path.join(configDir, 'analytics.json');
writeFileSync(configFile, JSON.stringify({ services: stubServices(stub.port) }, null, 2));

// 3. The example app, under the register entry, in its own process.
out.write(`Starting examples/${appFile} under --import otel-pg-analytics/register...\n`);
const app = spawn(process.execPath, ['--import', 'otel-pg-analytics/register', path.join(here, appFile)], {
  env: {
    ...process.env,
    PORT: '0',
    OTEL_ANALYTICS_DATABASE_URL: databaseUrl,
    OTEL_SERVICE_NAME: `demo-${values.app === 'http' ? 'http' : 'express'}`,
    OTEL_ANALYTICS_CONFIG: configFile,
    OTEL_BSP_SCHEDULE_DELAY: '1000',
    STUB_API_URL: stub.url,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const baseUrl = await new Promise((resolve, reject) => {
  let buffered = '';
  app.stdout.setEncoding('utf8');
  app.stdout.on('data', (chunk) => {
    buffered += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(buffered);
    if (match) resolve(match[1]);
  });
  app.once('exit', (code) => reject(new Error(`the example app exited early (code ${code})`)));
});

const trafficStart = new Date();

// 4. Traffic: sign-ups, logins (some failing), browsing, AI and scraping calls, errors.
const plan = buildTrafficPlan(totalRequests);
let done = 0;
for (const step of plan) {
  await step(String(baseUrl));
  done++;
  progress(done, plan.length);
}
out.write('\n');

// 5. Stop the app the way an orchestrator would; the register flushes on SIGTERM.
out.write('Stopping the app (SIGTERM); pending rows are flushed...\n');
const exit = new Promise((resolve) => app.once('exit', (code, signal) => resolve(signal ?? code)));
app.kill('SIGTERM');
const how = await exit;
await stub.close();
rmSync(configDir, { recursive: true, force: true });
out.write(`The app exited (${how}).\n\n`);

// 6. What landed, and the same as an HTML report (what `otel-pg-analytics report` writes).
await printSummary(databaseUrl);
const reportFile = path.resolve(values.report);
mkdirSync(path.dirname(reportFile), { recursive: true });
const reportData = await loadReportData(databaseUrl, {
  since: new Date(trafficStart.getTime() - 60_000),
  until: new Date(Date.now() + 60_000),
});
writeFileSync(reportFile, renderReport(reportData));
out.write(`\nHTML report (open it in a browser): ${reportFile}\n`);
out.write(`\nPoint Grafana (PostgreSQL data source) at: ${databaseUrl}\n`);
if (stopEmbedded && values.keep) {
  out.write('The embedded database keeps running until you press Ctrl-C.\n');
  await new Promise((resolve) => process.once('SIGINT', resolve));
}
if (stopEmbedded) {
  if (!values.keep)
    out.write('(The embedded database stops now; run `npm run demo -- --keep` to keep it.)\n');
  await stopEmbedded();
}

/**
 * @param {number} total
 * @returns {((base: string) => Promise<void>)[]}
 */
function buildTrafficPlan(total) {
  const users = ['ada', 'grace', 'linus', 'margaret', 'ken'].map((name) => ({
    email: `${name}@example.com`,
    password: `correct horse ${name}`,
    token: '',
  }));
  /** @type {((base: string) => Promise<void>)[]} */
  const steps = [];
  for (const user of users) {
    steps.push(
      async (base) => void (await post(base, '/auth/signup', { email: user.email, password: user.password })),
    );
  }
  steps.push(
    async (base) => void (await post(base, '/auth/signup', { email: 'weak@example.com', password: 'short' })),
  );
  for (const user of users) {
    steps.push(async (base) => {
      const res = await post(base, '/auth/login', { email: user.email, password: user.password });
      user.token = /** @type {{ token: string }} */ (await res.json()).token;
    });
  }
  let i = 0;
  while (steps.length < total - 2) {
    const user = users[i % users.length];
    // Read the token when the step runs: the logins above have not happened yet.
    const auth = {
      get authorization() {
        return `Bearer ${user?.token ?? ''}`;
      },
    };
    const pick = i % 20;
    i++;
    if (pick < 6) steps.push((base) => get(base, `/api/items/${(i * 37) % 1200}`, auth));
    else if (pick < 8)
      steps.push((base) =>
        get(base, `/api/search?q=shoes&page=${i % 5}&api_key=sk-live-demo-secret-${i}`, auth),
      );
    else if (pick === 8)
      steps.push(async (base) => void (await post(base, '/api/items', { name: `thing ${i}` }, auth)));
    else if (pick === 9 || pick === 10)
      steps.push((base) =>
        get(base, `/api/ai/summary?text=${encodeURIComponent('long text '.repeat(i % 7))}`, auth),
      );
    else if (pick === 11) steps.push((base) => get(base, '/api/ai/chat?message=hello', auth));
    else if (pick === 12 || pick === 13) {
      // Every fourth scrape hits a page the unlocker cannot open: a 502, not billed.
      const target = i % 80 < 20 ? 'https://blocked.example' : `https://shop.example/p/${i}`;
      steps.push((base) => get(base, `/api/scrape?url=${encodeURIComponent(target)}`, auth));
    } else if (pick === 14) steps.push((base) => get(base, '/api/profile', auth));
    else if (pick === 15) steps.push((base) => get(base, '/api/fail', auth));
    else if (pick === 16 || pick === 17) {
      // Someone guessing passwords.
      steps.push(
        async (base) =>
          void (await post(base, '/auth/login', { email: 'ada@example.com', password: `guess-${i}` })),
      );
    } else if (pick === 18)
      steps.push(
        async (base) => void (await post(base, '/auth/password-reset', { email: 'grace@example.com' })),
      );
    else steps.push((base) => get(base, '/health'));
  }
  steps.push(
    async (base) =>
      void (await post(base, '/auth/logout', {}, { authorization: `Bearer ${users[0]?.token ?? ''}` })),
  );
  steps.push(
    async (base) => void (await post(base, '/auth/logout', {}, { authorization: 'Bearer not-a-session' })),
  );
  return steps;
}

/** @param {string} base @param {string} route @param {Record<string, string>} [headers] */
async function get(base, route, headers = {}) {
  const res = await fetch(base + route, {
    headers: { 'user-agent': 'otel-pg-analytics-demo/1.0', ...headers },
  });
  await res.arrayBuffer();
}

/** @param {string} base @param {string} route @param {unknown} body @param {Record<string, string>} [headers] */
async function post(base, route, body, headers = {}) {
  return fetch(base + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'otel-pg-analytics-demo/1.0', ...headers },
    body: JSON.stringify(body),
  });
}

/** @param {number} current @param {number} total */
function progress(current, total) {
  const width = 30;
  const filled = Math.round((current / total) * width);
  const line = `Sending traffic [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${current}/${total}`;
  if (out.isTTY) out.write(`\r${line}`);
  else if (current === total || current % Math.ceil(total / 4) === 0) out.write(`${line}\n`);
}

/** @param {string} url */
async function printSummary(url) {
  const client = await connectClient(clientConfigOf(url));
  try {
    /** @param {string} sql */
    const rows = async (sql) => (await client.query(sql)).rows;
    const counts = (
      await rows(`
      select (select count(*) from api_access_log)::int as api,
             (select count(*) from authentication_log)::int as auth,
             (select count(*) from external_api_call_log)::int as external`)
    )[0];
    out.write(
      `Rows: api_access_log ${counts.api}, authentication_log ${counts.auth}, external_api_call_log ${counts.external}\n\n`,
    );
    table(
      'Busiest endpoints',
      await rows(`
      select method || ' ' || endpoint as endpoint, sum(sample_weight)::int as requests,
             round(avg(response_time_ms)::numeric, 1) as avg_ms,
             count(*) filter (where status_code >= 500)::int as errors_5xx
      from api_access_log group by 1 order by 2 desc, 1 limit 6`),
    );
    table(
      'Slowest endpoints (p95)',
      await rows(`
      select method || ' ' || endpoint as endpoint,
             round((percentile_cont(0.95) within group (order by response_time_ms))::numeric, 1) as p95_ms,
             count(*)::int as requests
      from api_access_log group by 1 order by 2 desc limit 5`),
    );
    table(
      'Failed logins by IP',
      await rows(`
      select host(ip_address) as ip, count(*)::int as failures, count(distinct user_id)::int as accounts,
             max(time)::timestamp(0) as last_seen
      from authentication_log where not success and event_type = 'login_failed' group by 1 order by 2 desc`),
    );
    table(
      'Auth events',
      await rows(`
      select event_type, count(*) filter (where success)::int as succeeded,
             count(*) filter (where not success)::int as failed
      from authentication_log group by 1 order by 1`),
    );
    table(
      'External calls by service',
      await rows(`
      select service, count(*)::int as calls, round(avg(response_time_ms)::numeric, 1) as avg_ms,
             count(*) filter (where status_code >= 400 or error_message is not null)::int as errors,
             coalesce(sum(cost_estimate)::numeric(12, 6)::text, 'unknown') as cost_usd
      from external_api_call_log group by 1 order by 2 desc`),
    );
    out.write(
      '  (LLM costs come from the token usage in each response, priced by the model that answered)\n\n',
    );
    table(
      'Cost by user',
      await rows(`
      select coalesce(user_id, '(no user)') as user_id, count(*)::int as calls,
             coalesce(sum(cost_estimate), 0)::numeric(12, 6) as cost_usd
      from external_api_call_log where cost_estimate is not null group by 1 order by 3 desc limit 5`),
    );
  } finally {
    await client.end();
  }
}

/** @typedef {string | number | boolean | Date | null} Cell  a value as pg reads it */

/** @param {string} title @param {Record<string, Cell>[]} data */
function table(title, data) {
  out.write(`${title}\n`);
  if (data.length === 0) {
    out.write('  (none)\n\n');
    return;
  }
  const columns = Object.keys(data[0] ?? {});
  const text = (/** @type {Cell | undefined} */ v) => (v instanceof Date ? v.toISOString() : String(v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...data.map((row) => text(row[c]).length)));
  const line = (/** @type {string[]} */ cells) =>
    `  ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}\n`;
  out.write(line(columns));
  out.write(line(widths.map((w) => '-'.repeat(w))));
  for (const row of data) out.write(line(columns.map((c) => text(row[c]))));
  out.write('\n');
}

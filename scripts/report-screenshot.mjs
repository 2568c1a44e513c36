// @ts-check
/**
 * Writes docs/report.png: `otel-pg-analytics report` over three days of synthetic rows
 * (bench/synthetic-rows.mjs), opened in headless Chromium. Needs `npm run build`, Chromium
 * (`apt-get install -y chromium`) and a PostgreSQL server (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test), where it creates and drops a database of its own.
 *
 *   node scripts/report-screenshot.mjs [out.png]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrate } from '../dist/admin/migrate.js';
import { syntheticRowsSql } from '../bench/synthetic-rows.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'report.png'));
const admin = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `pga_report_screenshot_${process.pid}`;
const url = new URL(admin);
url.pathname = `/${name}`;

const adminClient = new pg.Client({ connectionString: admin });
await adminClient.connect();
await adminClient.query(`create database ${name}`);
const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-report-'));
try {
  await migrate(url.toString());
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const until = new Date();
  for (const statement of syntheticRowsSql({
    from: new Date(until.getTime() - 72 * 3_600_000),
    to: until,
    apiRows: 30_000,
    authRows: 3000,
    callRows: 3000,
  })) {
    await client.query(statement);
  }
  await client.end();
  const html = path.join(dir, 'report.html');
  execFileSync(
    process.execPath,
    [path.join(root, 'dist/cli/otel-pg-analytics.js'), 'report', '--last', '72h', '--out', html],
    {
      env: { ...process.env, OTEL_ANALYTICS_DATABASE_URL: url.toString() },
      stdio: 'inherit',
    },
  );
  execFileSync(
    process.env.CHROMIUM ?? '/usr/bin/chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--screenshot=${out}`,
      '--window-size=1280,2400',
      pathToFileURL(html).href,
    ],
    { stdio: 'ignore' },
  );
  process.stdout.write(`wrote ${out}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await adminClient.query(`drop database if exists ${name} with (force)`);
  await adminClient.end();
}

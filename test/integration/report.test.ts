import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRowsSql } from '../../bench/synthetic-rows.mjs';
import { packageRoot } from '../../admin/migrate.js';
import { readReport } from '../../report/read-report.js';
import { renderReport } from '../../report/render-report.js';
import { chooseBucketSeconds, type ReportData, type ReportRange } from '../../report/report-data.js';
import type { ReportReadOptions } from '../../report/report-plan.js';
import { ReportQueries } from '../../report/report-queries.js';
import { sampledApiRows } from '../../report/sampled-rows.js';
import { splitAtHours } from '../../report/split-at-hours.js';
import { createTestDatabase, withClient, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');
const CHROMIUM = '/usr/bin/chromium';
const HOUR = 3_600_000;

describe('otel-pg-analytics report', () => {
  let db: TestDatabase;
  let dir: string;
  const now = new Date();

  beforeAll(async () => {
    db = await createTestDatabase('report');
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-report-test-'));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (const statement of syntheticRowsSql({
        from: new Date(now.getTime() - 48 * HOUR),
        to: now,
        apiRows: 8000,
        authRows: 1500,
        callRows: 1500,
      })) {
        await client.query(statement);
      }
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('writes the HTML report of the last 24 hours, reading the URL from the environment', async () => {
    const out = path.join(dir, 'last.html');
    const { stdout } = await run(process.execPath, [cli, 'report', '--last', '24h', '--out', out], {
      env: { ...process.env, OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    expect(stdout).toContain(`${out}: report of `);
    const html = readFileSync(out, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(5);
    for (const text of ['GET /api/items/:id', '203.0.113.7', 'claude-sonnet-4-5', 'brightdata', 'Top users'])
      expect(html).toContain(text);
    expect(html).not.toMatch(/<script|src=/);
    // Counts match the database: the requests card is the weighted sum over the window.
    const [row] = await db.query<{ requests: number }>(
      `select sum(sample_weight)::float8 as requests from api_access_log
       where time >= $1 and time < $2`,
      [
        new Date(Date.parse(/report of (\S+) to/.exec(stdout)![1]!)),
        new Date(Date.parse(/ to (\S+) from/.exec(stdout)![1]!)),
      ],
    );
    expect(row!.requests).toBeGreaterThan(1000);
    const shown = /<b>([\d.]+)k<\/b><span>requests<\/span>/.exec(html)![1]!;
    expect(Number(shown)).toBeCloseTo(row!.requests / 1000, 0);
  });

  it('takes --since and --until, and a window with no rows gives a report that says so', async () => {
    const out = path.join(dir, 'empty.html');
    await run(process.execPath, [
      cli,
      'report',
      '--database-url',
      db.url,
      '--since',
      '2020-01-01',
      '--until',
      '2020-01-02',
      '--out',
      out,
    ]);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('2020-01-01 00:00 to 2020-01-02 00:00 UTC');
    expect(html).toContain('no data in this range');
    expect(html).toContain('<b>0</b><span>requests</span>');
  });

  it('takes --exact, which changes nothing for a range within the sample budget', async () => {
    const pages = [];
    for (const flags of [[], ['--exact']]) {
      const out = path.join(dir, `exact${flags.length}.html`);
      const args = [
        'report',
        '--database-url',
        db.url,
        '--since',
        new Date(now.getTime() - 30 * HOUR).toISOString(),
      ];
      await run(process.execPath, [cli, ...args, '--until', now.toISOString(), '--out', out, ...flags]);
      pages.push(readFileSync(out, 'utf8').replace(/Generated [^<]* UTC/, 'Generated'));
    }
    expect(pages[0]).not.toContain('estimated from a sample');
    expect(pages[1]).toBe(pages[0]);
  });

  it('exits 2 with the reason for a bad window or no database', async () => {
    const bad = await run(process.execPath, [
      cli,
      'report',
      '--database-url',
      db.url,
      '--last',
      'a while',
    ]).catch((error: unknown) => error);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/--last "a while" is not a duration/);
    const env = { ...process.env };
    delete env.OTEL_ANALYTICS_DATABASE_URL;
    delete env.DATABASE_URL;
    const none = await run(process.execPath, [cli, 'report'], { env }).catch((error: unknown) => error);
    expect((none as { code: number }).code).toBe(2);
    expect((none as { stderr: string }).stderr).toMatch(/OTEL_ANALYTICS_DATABASE_URL/);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'renders in headless Chromium with its charts (skipped without /usr/bin/chromium: apt-get install -y chromium)',
    async () => {
      const html = path.join(dir, 'shot.html');
      const png = path.join(dir, 'shot.png');
      await run(process.execPath, [cli, 'report', '--database-url', db.url, '--last', '48h', '--out', html]);
      await run(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--hide-scrollbars',
          `--screenshot=${png}`,
          '--window-size=1280,2400',
          pathToFileURL(html).href,
        ],
        { timeout: 60_000 },
      );
      const image = readFileSync(png);
      expect(image.subarray(1, 4).toString()).toBe('PNG');
      expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1280, 2400]);
      // A page with only a heading comes out at about 15 KB at this size; charts and tables do not.
      expect(statSync(png).size).toBeGreaterThan(100_000);
    },
    90_000,
  );
});

describe('report from the hourly rollups', () => {
  let db: TestDatabase;
  // Six days of synthetic rows (so a range over four days has hour-wide chart buckets) ending
  // on a fixed hour, plus rows on the edges the rollups must get right.
  const end = new Date('2025-06-12T00:00:00Z');
  const start = new Date(end.getTime() - 6 * 24 * HOUR);
  const at = (iso: string) => new Date(iso);

  beforeAll(async () => {
    db = await createTestDatabase('report_rollups');
    await withClient(db.url, async (client) => {
      for (const statement of syntheticRowsSql({
        from: start,
        to: end,
        apiRows: 9000,
        authRows: 1500,
        callRows: 1500,
      }))
        await client.query(statement);
      await client.query(`
        insert into api_access_log
          (time, span_id, service_name, user_id, endpoint, path, method, status_code, response_time_ms,
           error_message, sample_weight, metadata)
        values
          -- No endpoint: the view's route falls back to the path, which no rollup keeps (weighted
          -- to be among the busiest endpoints, where a wrong route would show).
          ('2025-06-11T10:00:00Z', 'edge-1', 'shop-api', 'edge-user', null, '/raw/7', 'GET', 200, 12.5, null, 5000, null),
          ('2025-06-11T10:30:00Z', 'edge-2', 'shop-api', 'edge-user', null, null, null, 503, 80, 'down', 3000, null),
          -- No method, no status, the client went away (not the server's error); a weight of 2.5.
          ('2025-06-11T10:59:59.999999Z', 'edge-3', 'shop-api', null, '/x', '/x', null, null, 30000, 'socket hang up',
           2.5, '{"no_response": "client_closed"}'),
          -- No status but an error, no latency, on the hour.
          ('2025-06-11T11:00:00Z', 'edge-4', 'billing-api', null, '/x', '/x', 'POST', null, null, 'boom', 4, null)`);
      await client.query(`
        insert into external_api_call_log
          (time, span_id, service_name, user_id, service, endpoint, method, status_code, response_time_ms,
           cost_estimate, metadata)
        values
          -- Unpriced, no status (an error), tokens that are not numbers.
          ('2025-06-11T10:59:59.999999Z', 'edge-c1', 'shop-api', null, 'gemini', '/v1', 'POST', null, 40, null,
           '{"request_model": "gemini-x", "input_tokens": "12"}'),
          ('2025-06-11T11:00:00Z', 'edge-c2', 'shop-api', 'edge-user', null, '/v1', 'POST', 200, 40, 0.5, null)`);
      await client.query(`
        insert into authentication_log (time, span_id, service_name, user_id, event_type, success)
        values ('2025-06-11T10:59:59.999999Z', 'edge-a1', 'shop-api', 'edge-user', 'login', true),
               ('2025-06-11T11:00:00Z', 'edge-a2', 'shop-api', 'edge-user', 'password_reset', true)`);
    });
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** The report over `range` read one way, its generation time blanked out. */
  async function report(
    client: pg.ClientBase,
    range: ReportRange,
    options: ReportReadOptions,
  ): Promise<ReportData> {
    const data = await readReport(client, range, chooseBucketSeconds(range), options);
    return { ...data, generatedAt: new Date(0) };
  }

  const ranges: [string, ReportRange][] = [
    ['all six days, on whole hours', { since: start, until: end }],
    [
      'five days starting and ending mid-hour',
      { since: at('2025-06-06T07:17:13Z'), until: at('2025-06-11T10:41:07.5Z') },
    ],
    [
      '30 hours starting and ending mid-hour',
      { since: at('2025-06-10T05:59:59.999Z'), until: at('2025-06-11T11:00:00.001Z') },
    ],
    [
      'across one hour start, no whole hour',
      { since: at('2025-06-11T10:40:00Z'), until: at('2025-06-11T11:20:00Z') },
    ],
    ['within one hour', { since: at('2025-06-11T10:05:00Z'), until: at('2025-06-11T10:59:59.999Z') }],
    ['with no rows', { since: at('2020-01-01T00:00:00Z'), until: at('2020-01-31T12:30:00Z') }],
  ];

  it.each(ranges)("gives the raw rows' numbers exactly: %s", async (_, range) => {
    await withClient(db.url, async (client) => {
      const raw = await report(client, range, { rollups: false, sampleRows: Infinity });
      const rolled = await report(client, range, { rollups: true, sampleRows: Infinity });
      expect(rolled).toEqual(raw);
      expect(raw.api.sample).toBeUndefined();
      if (range.since.getFullYear() > 2020) expect(raw.api.totals.requests).toBeGreaterThan(0);
      else
        expect([raw.api.totals.requests, raw.auth.totals.logins, raw.external.totals.calls]).toEqual([
          0, 0, 0,
        ]);
      // And the page drawn from either is the same page.
      expect(renderReport(rolled)).toBe(renderReport(raw));
    });
  });

  it('reads the whole hours from the rollups and the partial hours from raw rows', async () => {
    const range = ranges[1]![1];
    expect(splitAtHours(range)).toEqual({
      wholeHours: { since: at('2025-06-06T08:00:00Z'), until: at('2025-06-11T10:00:00Z') },
      partial: [
        { since: range.since, until: at('2025-06-06T08:00:00Z') },
        { since: at('2025-06-11T10:00:00Z'), until: range.until },
      ],
    });
    // Rows removed from a partition itself leave the rollups as they were (as retention does):
    // the rollup path still counts a whole hour's rows, the raw path no longer does, and a
    // partial hour's rows are gone from both.
    await withClient(db.url, async (client) => {
      await client.query('begin');
      try {
        const [before] = (
          await client.query<{ n: number }>(
            `select sum(sample_weight)::float8 as n from api_access_log
             where time >= '2025-06-08T00:00:00Z' and time < '2025-06-08T01:00:00Z'`,
          )
        ).rows;
        expect(before!.n).toBeGreaterThan(0);
        await client.query(`delete from api_access_log_default where time >= '2025-06-08T00:00:00Z'
                            and time < '2025-06-08T01:00:00Z'`);
        await client.query(`delete from api_access_log_default where time >= '2025-06-11T10:00:00Z'
                            and time < '2025-06-11T10:41:07.5Z'`);
        const full = await report(client, range, { rollups: true, sampleRows: Infinity });
        const raw = await report(client, range, { rollups: false, sampleRows: Infinity });
        const [partial] = (
          await client.query<{ n: number }>(
            `select coalesce(sum(requests), 0)::float8 as n from analytics_api_hourly where hour = '2025-06-11T10:00:00Z'`,
          )
        ).rows;
        expect(partial!.n).toBeGreaterThan(0);
        expect(full.api.totals.requests - raw.api.totals.requests).toBe(before!.n);
      } finally {
        await client.query('rollback');
      }
    });
  });

  it('samples the parts the rollups do not hold past the budget, the same way from either path', async () => {
    const range = ranges[1]![1];
    await withClient(db.url, async (client) => {
      const raw = await report(client, range, { rollups: false, sampleRows: 500 });
      const rolled = await report(client, range, { rollups: true, sampleRows: 500 });
      expect(rolled).toEqual(raw);
      const exact = await report(client, range, { rollups: true, sampleRows: Infinity });
      // Sampled: a share of the pages, fewer rows, a lower bound on users; exact sums unchanged.
      expect(rolled.api.sample!.percent).toBeGreaterThan(0);
      expect(rolled.api.sample!.percent).toBeLessThan(100);
      expect(rolled.api.sample!.rows).toBeLessThan(exact.api.totals.requests);
      expect(rolled.external.sample!.rows).toBeLessThan(exact.external.totals.calls);
      expect(rolled.api.totals.users).toBeLessThanOrEqual(exact.api.totals.users);
      expect(rolled.api.totals.requests).toBe(exact.api.totals.requests);
      expect(rolled.api.endpoints.rows.map((r) => r.slice(0, 3))).toEqual(
        exact.api.endpoints.rows.map((r) => r.slice(0, 3)),
      );
      expect(rolled.external.totals).toEqual(exact.external.totals);
      expect(rolled.external.models).toEqual(exact.external.models);
      expect(rolled.auth).toEqual(exact.auth);
      // The status codes' estimates add up to the exact requests (within rounding).
      const statuses = rolled.api.statuses.rows.reduce((sum, row) => sum + Number(row[1]), 0);
      expect(Math.abs(statuses - exact.api.totals.requests)).toBeLessThanOrEqual(
        rolled.api.statuses.rows.length,
      );
      // The p95 line comes from the latency histograms: every bucket with requests has one.
      expect(rolled.api.series.length).toBe(exact.api.series.length);
      expect(rolled.api.series.every((b) => b.values.p95! > 0)).toBe(true);
      expect(renderReport(rolled)).toMatch(/are estimated from a sample of [\d.k]+ requests/);
      // The sample's top users, each with their last request of all rows, not the sample's.
      expect(rolled.api.users.rows.length).toBeGreaterThan(0);
      for (const [user, , , lastSeen] of rolled.api.users.rows) {
        const [row] = await db.query<{ last: string }>(
          `select to_char(max(time) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last
           from api_access_log where user_id = $1 and time >= $2 and time < $3`,
          [String(user), range.since, range.until],
        );
        expect(lastSeen, String(user)).toBe(row!.last);
      }
    });
  });

  it('samples rows that derive route and is_error as the view does', async () => {
    await withClient(db.url, async (client) => {
      const q = new ReportQueries(client);
      const range = { since: start, until: end };
      // TABLESAMPLE SYSTEM (100) reads every page: the table's derivation against the view's.
      const [diff] = await q.rows(sql`
        select (select count(*) from (select * from (${sampledApiRows(range, 100)}) a
                except all select * from (${sampledApiRows(range, null)}) b) d)::int as extra,
               (select count(*) from (select * from (${sampledApiRows(range, null)}) b
                except all select * from (${sampledApiRows(range, 100)}) a) d)::int as missing,
               (select count(*) from (${sampledApiRows(range, null)}) b)::int as rows`);
      expect(diff).toMatchObject({ extra: 0, missing: 0 });
      expect(diff!.rows).toBeGreaterThan(8900);
    });
  });
});

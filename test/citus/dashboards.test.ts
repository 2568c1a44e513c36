import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRowsSql } from '../../bench/synthetic-rows.mjs';
import { migrate, packageRoot } from '../../admin/migrate.js';
import { expandGrafanaSql } from '../../dev/grafana-sql.js';
import { readReport } from '../../report/read-report.js';
import { renderReport } from '../../report/render-report.js';
import { chooseBucketSeconds, type ReportData, type ReportRange } from '../../report/report-data.js';
import type { ReportReadOptions } from '../../report/report-plan.js';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';
import { LOG_TABLES, logRowCounts, rowsPerWorker } from '../helpers/citus-rows.js';
import { busiestUser, expectShape, panelRanges, variablesFor } from '../helpers/dashboard-panels.js';
import { readDashboards } from '../helpers/grafana-dashboards.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
// The CLI as users run it (built: `npm run build`).
const CLI = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');
// Distributing the log tables and their daily partitions makes about a thousand shards.
const MIGRATE_TIMEOUT_MILLIS = 120_000;
const HOUR = 3_600_000;

const dashboards = readDashboards();
const now = new Date();
const ranges = panelRanges(now);

/** `sql` without its outer `limit N`, which cuts ties differently on Citus and one PostgreSQL. */
function withoutLimit(sql: string): string {
  return sql.replace(/\s+limit\s+\d+\s*$/i, '');
}

/**
 * A result's rows, sorted, with numbers rounded to 9 significant digits: sums over shards add
 * in another order than one PostgreSQL's, which moves the last bits of a float.
 */
function comparable(rows: Record<string, unknown>[]): unknown[] {
  const round = (value: unknown): unknown => {
    if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(9));
    if (typeof value === 'string' && /^-?\d+\.\d+$/.test(value)) return Number(Number(value).toPrecision(9));
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) return value.map(round);
    return value;
  };
  return rows
    .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, round(v)])))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

describeCitus('the dashboards and the report on the distributed layout (Citus)', () => {
  let citus: CitusSchema;
  let single: TestDatabase;
  let onCitus: pg.Client;
  let onSingle: pg.Client;
  let topUser: string;

  beforeAll(async () => {
    citus = await createCitusSchema('dashboards');
    expect((await migrate(citus.url)).layout).toBe('distributed');
    single = await createTestDatabase('citus_dashboards_single');
    onCitus = new pg.Client({ connectionString: citus.url });
    onSingle = new pg.Client({ connectionString: single.url });
    await onCitus.connect();
    await onSingle.connect();
    // The same rows in both (one seed; on Citus the coordinator runs the generating SELECT and
    // routes its rows to the shards), written through the coordinator.
    const statements = syntheticRowsSql({
      from: new Date(now.getTime() - 72 * HOUR),
      to: now,
      apiRows: 20_000,
      authRows: 3000,
      callRows: 4000,
    });
    for (const statement of statements) {
      await onCitus.query(statement);
      await onSingle.query(statement);
    }
    // The rollups, kept by triggers on one PostgreSQL, by the upkeep on Citus.
    await onCitus.query('select * from analytics_roll_up()');
    topUser = await busiestUser(onSingle);
  }, MIGRATE_TIMEOUT_MILLIS);

  afterAll(async () => {
    await onCitus?.end();
    await onSingle?.end();
    await citus?.drop();
    await single?.drop();
  });

  it('has the same rows as one PostgreSQL, spread over both workers, and the same rollups', async () => {
    const counts = await logRowCounts(citus);
    expect(counts).toEqual({ api_access_log: 20_000, authentication_log: 3060, external_api_call_log: 4000 });
    for (const table of LOG_TABLES) {
      const perWorker = await rowsPerWorker(citus, table);
      expect(Object.keys(perWorker), table).toHaveLength(2);
    }
    const fingerprint = `
      select (select sum(response_time_ms * sample_weight)::numeric(20, 4)::text from api_access_log) as api,
             (select string_agg(md5(user_id || event_type || time::text), '' order by span_id) from authentication_log) as auth,
             (select sum(cost_estimate)::text from external_api_call_log) as cost,
             (select sum(requests)::text || '/' || sum(response_time_ms_sum)::numeric(20, 4)::text from analytics_api_hourly) as api_hourly,
             (select sum(events)::text from analytics_auth_hourly) as auth_hourly,
             (select sum(calls)::text || '/' || sum(cost_usd)::text from analytics_external_hourly) as external_hourly`;
    const [a] = (await onCitus.query(fingerprint)).rows;
    const [b] = (await onSingle.query(fingerprint)).rows;
    expect(a).toEqual(b);
  });

  for (const [file, dashboard] of dashboards) {
    describe(`${file}: ${dashboard.title}`, () => {
      for (const scenario of ['all', 'selected'] as const) {
        for (const range of ranges) {
          it(`every panel runs on Citus, in its shape, with one PostgreSQL's answer: ${scenario === 'all' ? 'all values' : 'values selected'}, ${range.name}`, async () => {
            const variables = await variablesFor(onSingle, dashboard, scenario, range, topUser);
            expect(await variablesFor(onCitus, dashboard, scenario, range, topUser)).toEqual(variables);
            for (const panel of dashboard.panels) {
              for (const target of panel.targets) {
                const sql = expandGrafanaSql(target.rawSql, { ...range, variables });
                const label = `${file} panel ${panel.id} "${panel.title}"`;
                const result = await onCitus.query(sql).catch((error: unknown) => {
                  throw new Error(`${label} failed on Citus: ${String(error)}\n${sql}`);
                });
                expectShape(panel, target.format, result);
                expect(result.rows.length, `${label} returned rows`).toBeGreaterThan(0);
                // The same rows as one PostgreSQL's, in any order among ties: all of them, not
                // a limit's worth, where the order by leaves ties for the limit to cut.
                const unlimited = withoutLimit(sql);
                const [all, expected] = await Promise.all([
                  unlimited === sql ? result : onCitus.query(unlimited),
                  onSingle.query(unlimited),
                ]);
                expect(
                  all.fields.map((f) => [f.name, f.dataTypeID]),
                  `${label}: the columns`,
                ).toEqual(expected.fields.map((f) => [f.name, f.dataTypeID]));
                expect(comparable(all.rows), `${label}: the rows\n${unlimited}`).toEqual(
                  comparable(expected.rows),
                );
              }
            }
          });
        }
      }
    });
  }

  describe('the report', () => {
    async function report(client: pg.ClientBase, range: ReportRange, options: ReportReadOptions) {
      await client.query('begin isolation level repeatable read');
      try {
        const data: ReportData = await readReport(client, range, chooseBucketSeconds(range), options);
        return { ...data, generatedAt: new Date(0) };
      } finally {
        await client.query('rollback');
      }
    }

    const reportRanges: [string, ReportRange][] = [
      ['the last 24 hours', { since: new Date(now.getTime() - 24 * HOUR), until: now }],
      [
        'three days starting and ending mid-hour',
        { since: new Date(now.getTime() - 71.6 * HOUR), until: new Date(now.getTime() - 0.3 * HOUR) },
      ],
    ];

    it.each(reportRanges)(
      'reads the same numbers as on one PostgreSQL, from rollups and raw rows: %s',
      async (_, range) => {
        for (const rollups of [true, false]) {
          const options = { rollups, sampleRows: Infinity };
          const fromCitus = await report(onCitus, range, options);
          const fromSingle = await report(onSingle, range, options);
          expect(fromCitus).toEqual(fromSingle);
          expect(renderReport(fromCitus)).toBe(renderReport(fromSingle));
        }
      },
    );

    it('reads a sample of pages on Citus too when the range holds more rows than its budget', async () => {
      const range = reportRanges[0]![1];
      const exact = await report(onCitus, range, { rollups: true, sampleRows: Infinity });
      // TABLESAMPLE SYSTEM ... REPEATABLE (0) runs on every shard with one seed, so it picks the
      // same page numbers in each; these shards hold a page or two per day, so a small share
      // could pick none at all. A budget of 90% of the rows picks some.
      const budget = Math.floor(0.9 * exact.api.totals.requests);
      const sampled = await report(onCitus, range, { rollups: true, sampleRows: budget });
      expect(sampled.api.sample).toBeDefined();
      expect(sampled.api.totals.requests).toBe(exact.api.totals.requests);
      expect(renderReport(sampled)).toContain('<svg ');
      // The top users of the sample, each with their last request of all rows (not the sample's).
      expect(sampled.api.users.rows.length).toBeGreaterThan(0);
      for (const [user, , , lastSeen] of sampled.api.users.rows) {
        const [row] = (
          await onCitus.query<{ last: string }>(
            `select to_char(max(time) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last
             from api_access_log where user_id = $1 and time >= $2 and time < $3`,
            [String(user), range.since, range.until],
          )
        ).rows;
        expect(lastSeen, String(user)).toBe(row!.last);
      }
    });

    it('is written by otel-pg-analytics report from the coordinator', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-citus-report-'));
      try {
        const out = path.join(dir, 'report.html');
        const { stdout } = await run(process.execPath, [CLI, 'report', '--last', '24h', '--out', out], {
          env: { ...process.env, OTEL_ANALYTICS_DATABASE_URL: citus.url },
        });
        expect(stdout).toContain(`${out}: report of `);
        const html = readFileSync(out, 'utf8');
        expect(html.match(/<svg /g)).toHaveLength(5);
        for (const text of [
          'GET /api/items/:id',
          '203.0.113.7',
          'claude-sonnet-4-5',
          'brightdata',
          'Top users',
        ])
          expect(html).toContain(text);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

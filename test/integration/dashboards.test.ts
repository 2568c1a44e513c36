import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRowsSql } from '../../bench/synthetic-rows.mjs';
import { expandGrafanaSql } from '../../dev/grafana-sql.js';
import { busiestUser, expectShape, panelRanges, variablesFor } from '../helpers/dashboard-panels.js';
import { readDashboards } from '../helpers/grafana-dashboards.js';
import { planReads, type ExplainRow } from '../helpers/query-plan.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const dashboards = readDashboards();
const now = new Date();
const HOUR = 3_600_000;

describe('Grafana dashboards against a database of realistic rows', () => {
  let db: TestDatabase;
  let client: pg.Client;
  /** The busiest user, to select. */
  let topUser: string;

  beforeAll(async () => {
    db = await createTestDatabase('dashboards');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    for (const statement of syntheticRowsSql({
      from: new Date(now.getTime() - 72 * HOUR),
      to: now,
      apiRows: 20_000,
      authRows: 3000,
      callRows: 4000,
    })) {
      await client.query(statement);
    }
    topUser = await busiestUser(client);
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const ranges = panelRanges(now);

  for (const [file, dashboard] of dashboards) {
    describe(`${file}: ${dashboard.title}`, () => {
      for (const scenario of ['all', 'selected'] as const) {
        for (const range of ranges) {
          it(`every panel returns rows of its shape, ${scenario === 'all' ? 'all values' : 'values selected'}, ${range.name}`, async () => {
            const variables = await variablesFor(client, dashboard, scenario, range, topUser);
            for (const panel of dashboard.panels) {
              for (const target of panel.targets) {
                const sql = expandGrafanaSql(target.rawSql, { ...range, variables });
                expect(sql, `${panel.title}: no macro or variable left`).not.toMatch(/\$\w|\[\[/);
                const result = await client.query(sql).catch((error: unknown) => {
                  throw new Error(
                    `${file} panel ${panel.id} "${panel.title}" failed: ${String(error)}\n${sql}`,
                  );
                });
                expectShape(panel, target.format, result);
                // The synthetic data covers every question, also narrowed: an empty panel here is a broken query.
                expect(result.rows.length, `${file} "${panel.title}" returned rows\n${sql}`).toBeGreaterThan(
                  0,
                );
              }
            }
          });
        }
      }
    });
  }

  it('every panel has a plan that reads its 24 hours through an index, never a whole log table', async () => {
    // With sequential scans priced out, PostgreSQL still picks one where no index can serve
    // the query, or reads a whole index without a condition: either means a panel would scan
    // the whole table. (Which
    // plan wins on real volumes, and how fast: bench/dashboards.mjs.)
    const range = ranges[0]!;
    await client.query('set enable_seqscan = off');
    try {
      for (const [file, dashboard] of dashboards) {
        for (const scenario of ['all', 'selected'] as const) {
          const variables = await variablesFor(client, dashboard, scenario, range, topUser);
          for (const panel of dashboard.panels) {
            const sql = expandGrafanaSql(panel.targets[0]!.rawSql, { ...range, variables });
            const [row] = (await client.query(`explain (format json) ${sql}`)).rows;
            // A log table is read through its partitions (daily, and the default one).
            const { wholeTable } = planReads(row as ExplainRow, {
              tables: /_log(_p\d{8}|_default)?$/,
              indexes: /_log_/,
            });
            expect(wholeTable, `${file} "${panel.title}" (${scenario})`).toEqual([]);
          }
        }
      }
    } finally {
      await client.query('reset enable_seqscan');
    }
  });

  it('filters do narrow: selected values return fewer API rows than All, and only the selected ones', async () => {
    const explore = dashboards.get('explore.json')!;
    const table = explore.panels.find((p) => p.title.startsWith('API requests'))!;
    const range = ranges[0]!;
    const all = await client.query(
      expandGrafanaSql(table.targets[0]!.rawSql, {
        ...range,
        variables: await variablesFor(client, explore, 'all', range, topUser),
      }),
    );
    const variables = await variablesFor(client, explore, 'selected', range, topUser);
    variables.search = { value: '' };
    const some = await client.query(expandGrafanaSql(table.targets[0]!.rawSql, { ...range, variables }));
    expect(all.rows).toHaveLength(500);
    expect(some.rows.length).toBeGreaterThan(0);
    for (const row of some.rows) {
      expect(row.user).toBe(topUser);
      expect(['GET /api/items/:id', 'GET /api/search', 'DELETE /api/items/:id']).toContain(row.endpoint);
      expect(String(row.status)).toMatch(/^[25]\d\d$/);
    }
  });

  it('brute-force bursts find the address that tried many accounts, and a quote in a search box stays a literal', async () => {
    const auth = dashboards.get('auth.json')!;
    const bursts = auth.panels.find((p) => p.title.startsWith('Bursts'))!;
    const range = ranges[0]!;
    const result = await client.query(
      expandGrafanaSql(bursts.targets[0]!.rawSql, {
        ...range,
        variables: await variablesFor(client, auth, 'all', range, topUser),
      }),
    );
    expect(result.rows[0]).toMatchObject({ ip: '203.0.113.7', pattern: 'many accounts (spraying)' });

    const explore = dashboards.get('explore.json')!;
    const variables = await variablesFor(client, explore, 'all', range, topUser);
    variables.search = { value: "x' or '1'='1" };
    for (const panel of explore.panels.filter((p) => p.type === 'table')) {
      const rows = await client.query(expandGrafanaSql(panel.targets[0]!.rawSql, { ...range, variables }));
      expect(rows.rows, panel.title).toEqual([]);
    }
  });
});

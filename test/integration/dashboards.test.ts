import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRowsSql } from '../../bench/synthetic-rows.mjs';
import { readDashboards, type DashboardJson, type PanelJson } from '../helpers/grafana-dashboards.js';
import {
  ALL,
  expandGrafanaSql,
  type GrafanaQueryContext,
  type GrafanaVariable,
} from '../../dev/grafana-sql.js';
import { planReads, type ExplainRow } from '../helpers/query-plan.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

// Type OIDs of what pg returns: Grafana reads these as numbers, times and strings.
const NUMERIC = new Set([20, 21, 23, 700, 701, 1700]);
const TIME = new Set([1082, 1114, 1184]);
const TEXT = new Set([19, 25, 1043]);
const BOOL = 16;

const dashboards = readDashboards();
const now = new Date();
const HOUR = 3_600_000;

/** The selections each panel is run with: everything, and a narrow one with multi-value picks. */
type Scenario = 'all' | 'selected';

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
    const [row] = (
      await client.query<{ user_id: string }>(
        `select user_id from api_access_log where user_id is not null and time > now() - interval '24 hours'
         group by 1 order by count(*) desc limit 1`,
      )
    ).rows;
    topUser = row!.user_id;
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  /** Variable values for a scenario: query variables get their options from their own query. */
  async function variablesFor(
    dashboard: DashboardJson,
    scenario: Scenario,
    range: Pick<GrafanaQueryContext, 'from' | 'to' | 'intervalMs'>,
  ): Promise<Record<string, GrafanaVariable>> {
    const variables: Record<string, GrafanaVariable> = {};
    for (const variable of dashboard.templating.list) {
      const common = {
        multi: variable.multi ?? false,
        includeAll: variable.includeAll ?? false,
        allValue: variable.allValue ?? null,
      };
      if (variable.type === 'textbox') {
        const value = scenario === 'all' ? '' : variable.name === 'user' ? topUser : 'a';
        variables[variable.name] = { ...common, value };
        continue;
      }
      let options: string[];
      if (variable.type === 'query') {
        const sql = expandGrafanaSql(variable.query, { ...range, variables });
        const result = await client.query<Record<string, string>>(sql);
        expect(result.fields, `variable ${variable.name} returns one column`).toHaveLength(1);
        options = result.rows.map((row) => String(Object.values(row)[0]));
        expect(options.length, `variable ${variable.name} has options`).toBeGreaterThan(0);
      } else {
        options = variable.query.split(',').map((v) => v.trim());
      }
      if (!variable.multi) {
        const current = variable.current?.value;
        variables[variable.name] = { ...common, value: typeof current === 'string' ? current : options[0]! };
      } else if (scenario === 'all') {
        variables[variable.name] = { ...common, value: ALL, options };
      } else {
        // Two real values, one with a quote-free name: the multi-value path, as `'a','b'`.
        variables[variable.name] = { ...common, value: pick(variable.name, options) };
      }
    }
    return variables;
  }

  function pick(name: string, options: string[]): string[] {
    const preferred: Record<string, string[]> = {
      status: ['2xx', '5xx'],
      event_type: ['login', 'login_failed'],
      service: ['gemini', 'openai'],
      endpoint: ['/api/items/:id', '/api/search'],
    };
    const wanted = (preferred[name] ?? []).filter((v) => options.includes(v));
    return wanted.length > 0 ? wanted : options.slice(0, 2);
  }

  /** Checks a panel's result has the shape its visualization reads. */
  function expectShape(panel: PanelJson, format: string, result: pg.QueryResult): void {
    const label = `${panel.title} (${panel.type}, ${format})`;
    const names = result.fields.map((f) => f.name);
    expect(
      names.filter((n) => n === '?column?'),
      `${label}: every column is named`,
    ).toEqual([]);
    expect(new Set(names).size, `${label}: column names are unique`).toBe(names.length);
    if (format === 'time_series') {
      expect(panel.type, label).toBe('timeseries');
      const time = result.fields.find((f) => f.name === 'time');
      expect(time, `${label}: has a time column`).toBeDefined();
      expect(
        NUMERIC.has(time!.dataTypeID) || TIME.has(time!.dataTypeID),
        `${label}: time is epoch or timestamp`,
      ).toBe(true);
      const others = result.fields.filter((f) => f.name !== 'time');
      expect(
        others.some((f) => NUMERIC.has(f.dataTypeID)),
        `${label}: has a numeric value column`,
      ).toBe(true);
      for (const f of others) {
        expect(
          NUMERIC.has(f.dataTypeID) || TEXT.has(f.dataTypeID),
          `${label}: ${f.name} is a number or a label`,
        ).toBe(true);
      }
      const times = result.rows.map((row: Record<string, unknown>) => Number(new Date(row.time as never)));
      expect(times, `${label}: sorted by time`).toEqual([...times].sort((a, b) => a - b));
      return;
    }
    expect(format, label).toBe('table');
    for (const f of result.fields) {
      expect(
        NUMERIC.has(f.dataTypeID) ||
          TEXT.has(f.dataTypeID) ||
          TIME.has(f.dataTypeID) ||
          f.dataTypeID === BOOL,
        `${label}: ${f.name} is a type Grafana displays (got oid ${f.dataTypeID})`,
      ).toBe(true);
    }
    for (const override of panel.fieldConfig.overrides) {
      expect(names, `${label}: the override's column exists`).toContain(override.matcher.options);
    }
    if (panel.type === 'stat') {
      expect(result.rows, `${label}: one row`).toHaveLength(1);
      for (const f of result.fields)
        expect(NUMERIC.has(f.dataTypeID), `${label}: ${f.name} is a number`).toBe(true);
    }
    if (panel.type === 'piechart' || panel.type === 'bargauge') {
      expect(
        result.fields.some((f) => TEXT.has(f.dataTypeID)),
        `${label}: has a label column`,
      ).toBe(true);
      expect(
        result.fields.some((f) => NUMERIC.has(f.dataTypeID)),
        `${label}: has a value column`,
      ).toBe(true);
    }
  }

  const ranges = [
    { name: 'last 24 hours at 5m', from: new Date(now.getTime() - 24 * HOUR), to: now, intervalMs: 300_000 },
    { name: 'last 3 days at 1h', from: new Date(now.getTime() - 72 * HOUR), to: now, intervalMs: 3_600_000 },
  ];

  for (const [file, dashboard] of dashboards) {
    describe(`${file}: ${dashboard.title}`, () => {
      for (const scenario of ['all', 'selected'] as const) {
        for (const range of ranges) {
          it(`every panel returns rows of its shape, ${scenario === 'all' ? 'all values' : 'values selected'}, ${range.name}`, async () => {
            const variables = await variablesFor(dashboard, scenario, range);
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
          const variables = await variablesFor(dashboard, scenario, range);
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
        variables: await variablesFor(explore, 'all', range),
      }),
    );
    const variables = await variablesFor(explore, 'selected', range);
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
        variables: await variablesFor(auth, 'all', range),
      }),
    );
    expect(result.rows[0]).toMatchObject({ ip: '203.0.113.7', pattern: 'many accounts (spraying)' });

    const explore = dashboards.get('explore.json')!;
    const variables = await variablesFor(explore, 'all', range);
    variables.search = { value: "x' or '1'='1" };
    for (const panel of explore.panels.filter((p) => p.type === 'table')) {
      const rows = await client.query(expandGrafanaSql(panel.targets[0]!.rawSql, { ...range, variables }));
      expect(rows.rows, panel.title).toEqual([]);
    }
  });
});

import type pg from 'pg';
import { expect } from 'vitest';
import {
  ALL,
  expandGrafanaSql,
  type GrafanaQueryContext,
  type GrafanaVariable,
} from '../../dev/grafana-sql.js';
import type { DashboardJson, PanelJson } from './grafana-dashboards.js';

// Type OIDs of what pg returns: Grafana reads these as numbers, times and strings.
const NUMERIC = new Set([20, 21, 23, 700, 701, 1700]);
const TIME = new Set([1082, 1114, 1184]);
const TEXT = new Set([19, 25, 1043]);
const BOOL = 16;

const HOUR = 3_600_000;

/** The selections each panel is run with: everything, and a narrow one with multi-value picks. */
export type Scenario = 'all' | 'selected';

/** The time range and interval of a panel query. */
export type PanelRange = Pick<GrafanaQueryContext, 'from' | 'to' | 'intervalMs'> & { name: string };

/** The ranges the dashboard tests run every panel over, ending at `now`. */
export function panelRanges(now: Date): PanelRange[] {
  return [
    { name: 'last 24 hours at 5m', from: new Date(now.getTime() - 24 * HOUR), to: now, intervalMs: 300_000 },
    { name: 'last 3 days at 1h', from: new Date(now.getTime() - 72 * HOUR), to: now, intervalMs: 3_600_000 },
  ];
}

/** The busiest user of the last 24 hours of `bench/synthetic-rows.mjs`'s rows, to select. */
export async function busiestUser(client: pg.ClientBase): Promise<string> {
  const [row] = (
    await client.query<{ user_id: string }>(
      `select user_id from api_access_log where user_id is not null and time > now() - interval '24 hours'
       group by 1 order by count(*) desc, 1 limit 1`,
    )
  ).rows;
  return row!.user_id;
}

/**
 * Variable values for a scenario: query variables get their options from their own query (run
 * on `client`); `topUser` fills the user search box of the narrow scenario.
 */
export async function variablesFor(
  client: pg.ClientBase,
  dashboard: DashboardJson,
  scenario: Scenario,
  range: Pick<GrafanaQueryContext, 'from' | 'to' | 'intervalMs'>,
  topUser: string,
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
export function expectShape(panel: PanelJson, format: string, result: pg.QueryResult): void {
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
      NUMERIC.has(f.dataTypeID) || TEXT.has(f.dataTypeID) || TIME.has(f.dataTypeID) || f.dataTypeID === BOOL,
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

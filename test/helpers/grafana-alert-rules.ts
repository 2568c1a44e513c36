import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { expandGrafanaSql } from '../../dev/grafana-sql.js';
import { GRAFANA_DIR } from './grafana-dashboards.js';
import { parseSimpleYaml } from './simple-yaml.js';

/** The parts of a Grafana alert rule provisioning file (apiVersion 1) the tests read. */
export interface AlertRuleFile {
  apiVersion: number;
  groups: AlertRuleGroup[];
}

export interface AlertRuleGroup {
  orgId: number;
  name: string;
  folder: string;
  interval: string;
  rules: AlertRule[];
}

export interface AlertRule {
  uid: string;
  title: string;
  condition: string;
  data: AlertQuery[];
  noDataState: 'OK' | 'NoData' | 'Alerting';
  execErrState: 'Error' | 'Alerting' | 'OK';
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A data source query (`model.rawSql`) or a server-side expression (`datasourceUid: __expr__`). */
export interface AlertQuery {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: { from: number; to: number };
  model: {
    refId: string;
    datasource: { type: string; uid: string };
    format?: string;
    rawQuery?: boolean;
    rawSql?: string;
    type?: string;
    expression?: string;
    conditions?: { evaluator: { type: string; params: number[] } }[];
  };
}

export const EXPRESSION_UID = '__expr__';
const ALERTING_DIR = path.join(GRAFANA_DIR, 'provisioning', 'alerting');

/** Every alert rule file under grafana/provisioning/alerting, parsed, by file name. */
export function readAlertRuleFiles(): Map<string, AlertRuleFile> {
  return new Map(
    readdirSync(ALERTING_DIR)
      .filter((file) => /\.ya?ml$/.test(file))
      .sort()
      .map((file) => [
        file,
        parseSimpleYaml(readFileSync(path.join(ALERTING_DIR, file), 'utf8')) as unknown as AlertRuleFile,
      ]),
  );
}

/** One alert instance: a row of the condition's query, as Grafana's tabular alerting reads it. */
export interface AlertInstance {
  labels: Record<string, string>;
  value: number;
  firing: boolean;
}

/** What one evaluation of a rule came to. */
export interface RuleEvaluation {
  /** `NoData` (mapped by `noDataState`), or the instances the query returned. */
  state: 'Normal' | 'Alerting' | 'NoData';
  instances: AlertInstance[];
  /** The SQL that ran, for messages. */
  sql: string;
}

// Type OIDs pg reports: the one numeric column is the value, text columns are labels.
const NUMERIC = new Set([20, 21, 23, 700, 701, 1700]);
const TEXT = new Set([19, 25, 1043]);

/**
 * Evaluates `rule` at `now` as Grafana would: runs its data source query over its relative
 * time range (macros expanded as Grafana's PostgreSQL data source does), turns the table into
 * one labelled number per row (exactly one numeric column; the others, text, are labels, and
 * each row's labels are unique, or Grafana refuses the result), applies the threshold
 * expression the condition names, and maps no rows through `noDataState`.
 */
export async function evaluateRule(
  client: pg.ClientBase,
  rule: AlertRule,
  now: Date,
): Promise<RuleEvaluation> {
  const condition = rule.data.find((query) => query.refId === rule.condition);
  if (condition?.datasourceUid !== EXPRESSION_UID || condition.model.type !== 'threshold')
    throw new Error(`${rule.uid}: the condition is not a threshold expression`);
  const [threshold] = condition.model.conditions ?? [];
  const input = rule.data.find((query) => query.refId === condition.model.expression);
  if (!threshold || input?.relativeTimeRange === undefined || input.model.rawSql === undefined)
    throw new Error(`${rule.uid}: the threshold does not read a data source query`);

  const range = input.relativeTimeRange;
  const sql = expandGrafanaSql(input.model.rawSql, {
    from: new Date(now.getTime() - range.from * 1000),
    to: new Date(now.getTime() - range.to * 1000),
    intervalMs: 60_000,
  });
  const result = await client.query(sql).catch((error: unknown) => {
    throw new Error(`${rule.uid} failed: ${String(error)}\n${sql}`);
  });
  const values = result.fields.filter((field) => NUMERIC.has(field.dataTypeID));
  if (values.length !== 1)
    throw new Error(`${rule.uid}: needs exactly one numeric column, got ${values.length}`);
  const labels = result.fields.filter((field) => !NUMERIC.has(field.dataTypeID));
  for (const field of labels)
    if (!TEXT.has(field.dataTypeID)) throw new Error(`${rule.uid}: label ${field.name} is not text`);

  const seen = new Set<string>();
  const instances = result.rows.map((row: Record<string, unknown>) => {
    const set: Record<string, string> = {};
    for (const field of labels) {
      const label = row[field.name];
      if (typeof label !== 'string') throw new Error(`${rule.uid}: label ${field.name} is null`);
      set[field.name] = label;
    }
    const key = JSON.stringify(set);
    if (seen.has(key)) throw new Error(`${rule.uid}: two rows with the labels ${key}`);
    seen.add(key);
    const value = Number(row[values[0]!.name]);
    if (row[values[0]!.name] === null || !Number.isFinite(value))
      throw new Error(`${rule.uid}: ${key} has no finite value`);
    return { labels: set, value, firing: crosses(threshold.evaluator, value) };
  });

  if (instances.length === 0) {
    const state = { OK: 'Normal', NoData: 'NoData', Alerting: 'Alerting' } as const;
    return { state: state[rule.noDataState], instances, sql };
  }
  return { state: instances.some((i) => i.firing) ? 'Alerting' : 'Normal', instances, sql };
}

function crosses(evaluator: { type: string; params: number[] }, value: number): boolean {
  const [limit] = evaluator.params;
  if (limit === undefined) throw new Error('a threshold without a value');
  if (evaluator.type === 'gt') return value > limit;
  if (evaluator.type === 'lt') return value < limit;
  throw new Error(`threshold type ${evaluator.type} is not modelled here`);
}

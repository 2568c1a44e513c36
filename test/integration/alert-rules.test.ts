import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRowsSql } from '../../bench/synthetic-rows.mjs';
import { packageRoot } from '../../admin/migrate.js';
import {
  EXPRESSION_UID,
  evaluateRule,
  readAlertRuleFiles,
  type AlertRule,
  type RuleEvaluation,
} from '../helpers/grafana-alert-rules.js';
import { BREACHES, HEALTHY_PIPELINE, STATS_SQL } from '../helpers/alert-rule-breaches.js';
import { GRAFANA_DIR } from '../helpers/grafana-dashboards.js';
import { planReads, type ExplainRow } from '../helpers/query-plan.js';
import { parseSimpleYaml } from '../helpers/simple-yaml.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const files = readAlertRuleFiles();
const groups = [...files.values()].flatMap((file) => file.groups);
const rules = groups.flatMap((group) => group.rules);
const rule = (uid: string): AlertRule => rules.find((r) => r.uid === uid)!;

const now = new Date();
const HOUR = 3_600_000;

/** Grafana's duration syntax for `interval` and `for` (Prometheus model.ParseDuration). */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** The uids of the provisioned data sources, with their types. */
function provisionedDatasources(): Map<string, string> {
  const dir = path.join(GRAFANA_DIR, 'provisioning', 'datasources');
  const sources = readdirSync(dir).flatMap((file) => {
    const parsed = parseSimpleYaml(readFileSync(path.join(dir, file), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    return parsed.datasources;
  });
  return new Map(sources.map((source) => [source.uid, source.type]));
}

describe('Grafana alert rules (static checks)', () => {
  const datasources = provisionedDatasources();

  it('are provisioning files of apiVersion 1 with rule groups in the dashboards’ folder', () => {
    expect(files.size).toBeGreaterThan(0);
    const provider = parseSimpleYaml(
      readFileSync(path.join(GRAFANA_DIR, 'provisioning/dashboards/otel-pg-analytics.yaml'), 'utf8'),
    ) as { providers: { folder: string }[] };
    for (const [file, content] of files) {
      expect(content.apiVersion, file).toBe(1);
      for (const group of content.groups) {
        expect(group.orgId, group.name).toBe(1);
        expect(group.folder, group.name).toBe(provider.providers[0]!.folder);
        expect(group.interval, group.name).toMatch(DURATION);
        expect(group.rules.length, group.name).toBeGreaterThan(0);
      }
    }
    const names = groups.map((group) => group.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives every rule a unique uid and title, a condition among its data, and states Grafana knows', () => {
    const uids = rules.map((r) => r.uid);
    expect(new Set(uids).size).toBe(uids.length);
    const titles = rules.map((r) => r.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const r of rules) {
      expect(r.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      const refIds = r.data.map((query) => query.refId);
      expect(new Set(refIds).size, r.uid).toBe(refIds.length);
      expect(refIds, r.uid).toContain(r.condition);
      expect(['OK', 'NoData', 'Alerting'], r.uid).toContain(r.noDataState);
      // An empty database is no incident: no rows is OK.
      expect(r.noDataState, r.uid).toBe('OK');
      expect(['Error', 'Alerting', 'OK'], r.uid).toContain(r.execErrState);
      expect(r.for, r.uid).toMatch(DURATION);
      expect(['warning', 'critical'], r.uid).toContain(r.labels.severity);
      expect(r.annotations.summary, r.uid).toBeTruthy();
      // Grafana expands $VAR in labels and ${VAR} in annotations from its environment.
      for (const label of Object.values(r.labels)) expect(label, r.uid).not.toContain('$');
      for (const text of Object.values(r.annotations)) expect(text, r.uid).not.toContain('${');
    }
  });

  it('queries a provisioned data source as a table, and thresholds an existing query with a number', () => {
    for (const r of rules) {
      for (const query of r.data) {
        expect(query.model.refId, r.uid).toBe(query.refId);
        if (query.datasourceUid === EXPRESSION_UID) {
          expect(query.model.datasource, r.uid).toEqual({ type: EXPRESSION_UID, uid: EXPRESSION_UID });
          expect(query.model.type, r.uid).toBe('threshold');
          expect(
            r.data.some((other) => other.refId === query.model.expression && other.refId !== query.refId),
            `${r.uid}: ${query.refId} reads a query of the rule`,
          ).toBe(true);
          expect(query.model.conditions, r.uid).toHaveLength(1);
          const { evaluator } = query.model.conditions![0]!;
          expect(['gt', 'lt'], r.uid).toContain(evaluator.type);
          expect(evaluator.params, `${r.uid}: threshold present`).toHaveLength(1);
          expect(evaluator.params[0], r.uid).toBeTypeOf('number');
          continue;
        }
        expect(datasources.get(query.datasourceUid), `${r.uid}: ${query.datasourceUid} is provisioned`).toBe(
          'grafana-postgresql-datasource',
        );
        expect(query.model.datasource, r.uid).toEqual({
          type: 'grafana-postgresql-datasource',
          uid: query.datasourceUid,
        });
        expect(query.model).toMatchObject({ format: 'table', rawQuery: true });
        expect(query.model.rawSql, r.uid).toMatch(/\$__timeF/);
        expect(query.relativeTimeRange!.from, r.uid).toBeGreaterThan(query.relativeTimeRange!.to);
        expect(query.relativeTimeRange!.to, r.uid).toBe(0);
      }
      expect(r.data.find((q) => q.refId === r.condition)!.datasourceUid, r.uid).toBe(EXPRESSION_UID);
    }
  });

  it('ships: package.json publishes grafana/provisioning, and docker-compose mounts it for Grafana', () => {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
      files: string[];
    };
    expect(pkg.files).toContain('grafana/provisioning');
    const compose = readFileSync(path.join(packageRoot(), 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('./grafana/provisioning:/etc/grafana/provisioning');
  });

  it('reads SQL as literal blocks the way YAML does (the strict parser, which Grafana agrees with)', () => {
    expect(parseSimpleYaml('a: |\n  select 1\n\n  -- # kept\nb: |-\n  x\n    y\n\nc: 1\n')).toEqual({
      a: 'select 1\n\n-- # kept\n',
      b: 'x\n  y',
      c: 1,
    });
    expect(() => parseSimpleYaml('a: |\n    x\n  y\n')).toThrow(/indentation/);
  });
});

describe('Grafana alert rules against a database of demo-like rows', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let reader: string;

  beforeAll(async () => {
    db = await createTestDatabase('alert_rules', { writer: true });
    reader = `${db.name}_r`;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // Three days like the dashboards test, and a busy last hour so that every rule has
    // something to judge. (The second run's brute-force burst lands 3 hours back, as the
    // first's does, 1 ms apart: outside every rule's window.)
    const statements = [
      ...syntheticRowsSql({
        from: new Date(now.getTime() - 72 * HOUR),
        to: now,
        apiRows: 20_000,
        authRows: 3000,
        callRows: 4000,
      }),
      ...syntheticRowsSql({
        from: new Date(now.getTime() - HOUR),
        to: new Date(now.getTime() - 1),
        apiRows: 6000,
        authRows: 600,
        callRows: 300,
        seed: 0.1,
      }),
    ];
    for (const statement of statements) await client.query(statement);
    await client.query(STATS_SQL, [now.toISOString(), JSON.stringify(HEALTHY_PIPELINE)]);
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  /** Runs `setup` and evaluates every rule as Grafana's read-only role, then undoes it all. */
  async function evaluateAll(
    setup: () => Promise<void> = async () => {},
  ): Promise<Map<string, RuleEvaluation>> {
    await client.query('begin');
    try {
      await setup();
      await client.query(`set local role ${reader}`);
      const results = new Map<string, RuleEvaluation>();
      for (const r of rules) results.set(r.uid, await evaluateRule(client, r, now));
      return results;
    } finally {
      await client.query('rollback');
    }
  }

  function firing(
    results: Map<string, RuleEvaluation>,
  ): { rule: string; labels: Record<string, string>; value: number }[] {
    return [...results].flatMap(([uid, result]) =>
      result.instances.filter((i) => i.firing).map((i) => ({ rule: uid, labels: i.labels, value: i.value })),
    );
  }

  it('fires nothing on demo-like data, though every rule has instances to judge', async () => {
    const results = await evaluateAll();
    expect(firing(results)).toEqual([]);
    for (const [uid, result] of results) {
      expect(result.state, uid).toBe('Normal');
      expect(result.instances.length, `${uid} judged something\n${result.sql}`).toBeGreaterThan(0);
    }
    // Old drops and a draining spool are judged (value 0), not ignored.
    const dropped = results.get('otel-pga-pipeline-dropped-rows')!.instances;
    expect(dropped).toContainEqual({
      labels: { service_name: 'shop-api', reason: 'queue_full' },
      value: 0,
      firing: false,
    });
    expect(results.get('otel-pga-pipeline-spool-growing')!.instances).toContainEqual({
      labels: { service_name: 'billing-api' },
      value: 0,
      firing: false,
    });
  });

  it('is OK on an empty database: every query runs, returns no rows, and nothing fires', async () => {
    const results = await evaluateAll(async () => {
      await client.query(`truncate api_access_log, authentication_log, external_api_call_log, analytics_pipeline_stats,
        analytics_api_hourly, analytics_auth_hourly, analytics_external_hourly`);
    });
    for (const [uid, result] of results) {
      expect(result.state, uid).toBe('Normal');
      expect(result.instances, uid).toEqual([]);
    }
  });

  for (const breach of BREACHES) {
    const what = breach.fires.length === 0 ? 'nothing fires' : `${breach.fires[0]!.rule} fires`;
    it(`${what} on ${breach.name}`, async () => {
      const results = await evaluateAll(async () => {
        for (const statement of breach.sql ?? []) await client.query(statement, [now.toISOString()]);
        if (breach.stats) await client.query(STATS_SQL, [now.toISOString(), JSON.stringify(breach.stats)]);
      });
      const fired = firing(results);
      expect(fired.map(({ rule: uid, labels }) => ({ rule: uid, labels }))).toEqual(
        expect.arrayContaining(breach.fires.map(({ rule: uid, labels }) => ({ rule: uid, labels }))),
      );
      expect(fired, 'nothing else fires').toHaveLength(breach.fires.length);
      for (const expected of breach.fires.filter((f) => f.value !== undefined)) {
        const actual = fired.find(
          (f) => f.rule === expected.rule && JSON.stringify(f.labels) === JSON.stringify(expected.labels),
        );
        expect(actual!.value, JSON.stringify(expected)).toBeCloseTo(expected.value!, 6);
      }
      for (const uid of new Set(breach.fires.map((f) => f.rule)))
        expect(results.get(uid)!.state).toBe('Alerting');
    });
  }

  it('thresholds are what fire: the same breach stays quiet under a higher threshold', async () => {
    const strict = structuredClone(rule('otel-pga-failed-logins-per-address'));
    strict.data.find((q) => q.refId === strict.condition)!.model.conditions![0]!.evaluator.params = [30];
    await client.query('begin');
    try {
      await client.query(BREACHES[0]!.sql![0]!, [now.toISOString()]);
      await client.query(`set local role ${reader}`);
      const result = await evaluateRule(client, strict, now);
      expect(result.instances.find((i) => i.labels.ip === '198.51.100.23')).toMatchObject({
        value: 30,
        firing: false,
      });
    } finally {
      await client.query('rollback');
    }
  });

  it('every rule reads its window through an index, never a whole log table', async () => {
    // Log tables (their partitions), the pipeline stats and the rollups, and their indexes.
    const TABLE = /_log_|_stats$|_hourly$/;
    const INDEX = /_log_|_stats_|_hourly_/;
    const results = await evaluateAll();
    await client.query('set enable_seqscan = off');
    try {
      for (const [uid, { sql }] of results) {
        const [row] = (await client.query(`explain (format json) ${sql}`)).rows;
        const { indexes, wholeTable } = planReads(row as ExplainRow, { tables: TABLE, indexes: INDEX });
        expect(indexes.length, `${uid} reads an index`).toBeGreaterThan(0);
        expect(wholeTable, uid).toEqual([]);
      }
    } finally {
      await client.query('reset enable_seqscan');
    }
  });
});

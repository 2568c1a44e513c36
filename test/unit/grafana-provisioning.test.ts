/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is walked loosely; the assertions check its shape. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDashboards, DATASOURCE, dashboardJson } from '../../scripts/build-dashboards.mjs';
import { packageRoot } from '../../admin/migrate.js';
import { GRAFANA_DIR, readDashboards } from '../helpers/grafana-dashboards.js';
import { parseSimpleYaml, type YamlValue } from '../helpers/simple-yaml.js';

const root = packageRoot();
const dashboards = readDashboards();

function yamlFile(relative: string): Record<string, any> {
  const value = parseSimpleYaml(readFileSync(path.join(root, relative), 'utf8'));
  expect(value, relative).toBeTypeOf('object');
  return value as Record<string, any>;
}

/** `host:container[:mode]` volume entries of a compose service. */
function mounts(service: Record<string, any>): { host: string; container: string }[] {
  return ((service.volumes ?? []) as string[]).map((entry) => {
    const [host, container] = entry.split(':');
    return { host: host!, container: container! };
  });
}

const BUILTINS = new Set(['__interval', '__interval_ms', '__from', '__to', '__all']);

describe('Grafana dashboards (static checks)', () => {
  it('are the four dashboards, each with a unique uid', () => {
    expect([...dashboards.keys()]).toEqual(['api.json', 'auth.json', 'explore.json', 'external.json']);
    const uids = [...dashboards.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('are exactly what scripts/build-dashboards.mjs writes (run it after changing a panel)', () => {
    for (const [file, value] of Object.entries(buildDashboards())) {
      expect(readFileSync(path.join(GRAFANA_DIR, 'dashboards', file), 'utf8'), file).toBe(
        dashboardJson(value),
      );
    }
  });

  for (const [file, dashboard] of dashboards) {
    it(`${file}: unique panel ids, panels on the 24-column grid without overlaps, the provisioned data source`, () => {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const cells = new Set<string>();
      for (const panel of dashboard.panels) {
        const { x, y, w, h } = panel.gridPos;
        expect(x + w, panel.title).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++)
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`), `${panel.title} overlaps another panel`).toBe(false);
            cells.add(`${i},${j}`);
          }
        expect(panel.datasource).toEqual(DATASOURCE);
        expect(panel.targets.length).toBeGreaterThan(0);
        for (const target of panel.targets) expect(target.datasource).toEqual(DATASOURCE);
      }
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        expect(variable.datasource).toEqual(DATASOURCE);
      }
    });

    it(`${file}: every variable a query uses is defined on the dashboard`, () => {
      const defined = new Set(dashboard.templating.list.map((v) => v.name));
      const queries = [
        ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.rawSql)),
        ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => v.query),
      ];
      for (const sql of queries) {
        for (const [, name] of sql.matchAll(/\$\{?(\w+)/g)) {
          if (name!.startsWith('__') && !BUILTINS.has(name!)) continue; // a macro: $__timeFilter(...)
          expect(defined.has(name!) || BUILTINS.has(name!), `$${name} in ${file}`).toBe(true);
        }
      }
    });
  }
});

describe('Grafana provisioning and docker-compose.yml', () => {
  const datasources = yamlFile('grafana/provisioning/datasources/otel-pg-analytics.yaml');
  const providers = yamlFile('grafana/provisioning/dashboards/otel-pg-analytics.yaml');
  const compose = yamlFile('docker-compose.yml');

  it('provisions the PostgreSQL data source the dashboards name, as the read-only role, password from the environment', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    const [source] = datasources.datasources as Record<string, any>[];
    expect(source).toMatchObject({
      uid: DATASOURCE.uid,
      type: DATASOURCE.type,
      user: 'otel_analytics_reader',
      secureJsonData: { password: '$OTEL_ANALYTICS_READER_PASSWORD' },
    });
    expect(JSON.stringify(source)).not.toMatch(/password":"(?!\$)/);
  });

  it('loads dashboards from a folder that docker-compose mounts from grafana/dashboards', () => {
    const [provider] = providers.providers as Record<string, any>[];
    expect(provider).toMatchObject({ type: 'file' });
    const grafana = compose.services.grafana as Record<string, any>;
    const mount = mounts(grafana).find((m) => m.container === provider!.options.path);
    expect(mount, 'the provider path is mounted').toBeDefined();
    expect(path.resolve(root, mount!.host)).toBe(path.join(GRAFANA_DIR, 'dashboards'));
    expect(mounts(grafana)).toContainEqual({
      host: './grafana/provisioning',
      container: '/etc/grafana/provisioning',
    });
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(dashboards.has(path.posix.relative(provider!.options.path, home))).toBe(true);
  });

  it('gives Grafana every variable the data source file expands', () => {
    const text = readFileSync(
      path.join(GRAFANA_DIR, 'provisioning/datasources/otel-pg-analytics.yaml'),
      'utf8',
    );
    const used = new Set([...text.replace(/^#.*$/gm, '').matchAll(/\$\{?([A-Z_]+)/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(0);
    const environment = compose.services.grafana.environment as Record<string, YamlValue>;
    for (const name of used) expect(environment, name).toHaveProperty(name);
    // The reader's password is the one migrate --roles gave the role.
    expect(environment.OTEL_ANALYTICS_READER_PASSWORD).toBe(
      compose.services.migrate.environment.OTEL_ANALYTICS_READER_PASSWORD,
    );
  });

  it('mounts only paths that exist in the repository (dist/ after npm run build)', () => {
    for (const [name, service] of Object.entries(compose.services as Record<string, Record<string, any>>)) {
      for (const { host } of mounts(service)) {
        expect(host, `${name} mounts a relative path`).toMatch(/^\.\//);
        expect(existsSync(path.resolve(root, host)), `${name}: ${host} exists`).toBe(true);
      }
    }
  });

  it('the YAML checks are real: the parser refuses what it does not understand', () => {
    expect(() => parseSimpleYaml('a: &anchor 1')).toThrow(/outside the YAML subset/);
    expect(() => parseSimpleYaml('a:\n\tb: 1')).toThrow(/tabs/);
    expect(() => parseSimpleYaml('a: 1\na: 2')).toThrow(/duplicate key/);
    expect(() => parseSimpleYaml('a:\n  - b\n   c: 1')).toThrow();
    expect(parseSimpleYaml("a:\n  - b: 'it''s'\n    c: [1, x]\n  - d # note\n")).toEqual({
      a: [{ b: "it's", c: [1, 'x'] }, 'd'],
    });
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../admin/migrate.js';

/** The parts of a Grafana dashboard JSON the tests read. */
export interface DashboardJson {
  uid: string;
  title: string;
  templating: { list: VariableJson[] };
  panels: PanelJson[];
}

export interface VariableJson {
  type: 'query' | 'custom' | 'textbox';
  name: string;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { value: string | string[] };
  datasource?: { type: string; uid: string };
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string; uid: string };
  targets: { refId: string; format: 'time_series' | 'table'; rawSql: string; datasource: { uid: string } }[];
  fieldConfig: { overrides: { matcher: { id: string; options: string } }[] };
}

export const GRAFANA_DIR = path.join(packageRoot(), 'grafana');

/** Every dashboard file under grafana/dashboards, parsed, by file name. */
export function readDashboards(): Map<string, DashboardJson> {
  const dir = path.join(GRAFANA_DIR, 'dashboards');
  return new Map(
    readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => [file, JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as DashboardJson]),
  );
}

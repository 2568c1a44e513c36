// @ts-check
/**
 * Writes grafana/dashboards/*.json from the compact definitions in scripts/dashboards/: one
 * module per dashboard holds its panels, SQL and variables, and `dashboard()` fills in panel
 * ids, grid positions and datasource references the same way everywhere, so the four
 * dashboards stay consistent. Run `node scripts/build-dashboards.mjs` after changing a panel; a
 * test fails when the committed JSON and the definitions disagree. (Editing a dashboard in
 * Grafana and exporting it is fine too: then paste the SQL back into its module.)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiDashboard } from './dashboards/api.mjs';
import { authDashboard } from './dashboards/auth.mjs';
import { dashboard } from './dashboards/dashboard.mjs';
import { exploreDashboard } from './dashboards/explore.mjs';
import { externalDashboard } from './dashboards/external.mjs';

export { DATASOURCE } from './dashboards/datasource.mjs';

/** The four dashboards, by file name. */
export function buildDashboards() {
  return {
    'api.json': dashboard(apiDashboard),
    'auth.json': dashboard(authDashboard),
    'external.json': dashboard(externalDashboard),
    'explore.json': dashboard(exploreDashboard),
  };
}

/** Where the dashboards live. */
export const DASHBOARDS_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'grafana',
  'dashboards',
);

/** @param {unknown} value */
export function dashboardJson(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, value] of Object.entries(buildDashboards())) {
    writeFileSync(path.join(DASHBOARDS_DIR, file), dashboardJson(value));
    process.stdout.write(`wrote grafana/dashboards/${file}\n`);
  }
}

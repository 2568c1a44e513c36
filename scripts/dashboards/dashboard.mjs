// @ts-check
import { panel } from './panel.mjs';

/**
 * One dashboard as its module writes it: panels in reading order, and its variables.
 *
 * @typedef {{ uid: string, title: string, description: string,
 *   panels: import('./panel.mjs').PanelSpec[], variables: unknown[] }} DashboardSpec
 */

/**
 * The Grafana JSON of a dashboard. Panels are laid out left to right on Grafana's 24-column
 * grid and numbered from 1; a panel that does not fit on the current row starts a new one
 * below the tallest panel of that row. Every dashboard carries the same tag, so each links to
 * the others.
 *
 * @param {DashboardSpec} spec
 */
export function dashboard({ uid, title, description, panels, variables }) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const built = panels.map((spec, index) => {
    if (x + spec.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { h: spec.h, w: spec.w, x, y };
    x += spec.w;
    rowHeight = Math.max(rowHeight, spec.h);
    return panel(spec, index + 1, gridPos);
  });
  return {
    uid,
    title,
    description,
    tags: ['otel-pg-analytics'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    links: [
      {
        type: 'dashboards',
        title: 'otel-pg-analytics',
        tags: ['otel-pg-analytics'],
        asDropdown: true,
        keepTime: true,
        includeVars: false,
      },
    ],
    annotations: { list: [] },
    templating: { list: variables },
    panels: built,
  };
}

// @ts-check
import { DATASOURCE } from './datasource.mjs';

/**
 * A panel as the dashboard modules write it: what it shows and how large it is. `panel()` fills
 * in the rest the same way for every panel.
 *
 * @typedef {{ type: string, title: string, description?: string, w: number, h: number,
 *   format: 'time_series' | 'table', sql: string, unit?: string, options?: Record<string, unknown>,
 *   custom?: Record<string, unknown>, overrides?: { name: string, unit?: string, displayName?: string }[],
 *   decimals?: number }} PanelSpec
 */

/**
 * The Grafana JSON of one panel: its single raw-SQL target on the provisioned data source, and
 * the field and display defaults of its type, which the spec's `custom` and `options` extend.
 *
 * @param {PanelSpec} panel
 * @param {number} id
 * @param {{ h: number, w: number, x: number, y: number }} gridPos
 */
export function panel(panel, id, gridPos) {
  return {
    id,
    type: panel.type,
    title: panel.title,
    ...(panel.description && { description: panel.description }),
    datasource: DATASOURCE,
    gridPos,
    targets: [
      {
        refId: 'A',
        datasource: DATASOURCE,
        editorMode: 'code',
        format: panel.format,
        rawQuery: true,
        rawSql: panel.sql,
      },
    ],
    fieldConfig: {
      defaults: {
        ...(panel.unit && { unit: panel.unit }),
        ...(panel.type === 'timeseries' && {
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: 10,
            showPoints: 'never',
            spanNulls: false,
            ...panel.custom,
          },
        }),
      },
      overrides: (panel.overrides ?? []).map((o) => ({
        matcher: { id: 'byName', options: o.name },
        properties: [{ id: 'unit', value: o.unit }],
      })),
    },
    options: {
      ...(panel.type === 'timeseries' && {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      }),
      ...(panel.type === 'table' && { showHeader: true, cellHeight: 'sm' }),
      ...(panel.type === 'stat' && {
        reduceOptions: { values: false, calcs: ['lastNotNull'], fields: '' },
        colorMode: 'none',
        graphMode: 'none',
      }),
      ...panel.options,
    },
  };
}

// @ts-check
/**
 * The dashboards' variables: builders for Grafana's query, custom and text-box variables, and
 * the variables the dashboards name, each defined once. A multi-value variable has a custom All
 * value that the filters in filters.mjs fold away.
 */
import { DATASOURCE } from './datasource.mjs';

/** A custom All value: inserted raw, so `'__all' in ($var)` folds to true and drops the filter. */
const ALL_VALUE = "'__all'";

/** @param {string} name @param {string} label @param {string} sql */
export function queryVariable(name, label, sql) {
  return {
    type: 'query',
    name,
    label,
    datasource: DATASOURCE,
    query: sql,
    definition: sql,
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: ALL_VALUE,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    sort: 1,
    hide: 0,
  };
}

/** @param {string} name @param {string} label @param {string[]} values @param {{ multi?: boolean, current?: string }} [opts] */
export function customVariable(name, label, values, opts = {}) {
  const multi = opts.multi ?? true;
  const current = opts.current;
  return {
    type: 'custom',
    name,
    label,
    query: values.join(','),
    multi,
    includeAll: multi,
    ...(multi && { allValue: ALL_VALUE }),
    current:
      current === undefined
        ? { selected: true, text: ['All'], value: ['$__all'] }
        : { selected: true, text: current, value: current },
    options: values.map((value) => ({ selected: value === current, text: value, value })),
    hide: 0,
  };
}

/** @param {string} name @param {string} label @param {string} description */
export function textVariable(name, label, description) {
  return {
    type: 'textbox',
    name,
    label,
    description,
    query: '',
    current: { selected: false, text: '', value: '' },
    options: [{ selected: true, text: '', value: '' }],
    hide: 0,
  };
}

export const appVariable = (/** @type {string} */ table) =>
  queryVariable(
    'app',
    'App (service.name)',
    `select distinct service_name from ${table} where $__timeFilter(time) and service_name is not null order by 1`,
  );
export const endpointVariable = queryVariable(
  'endpoint',
  'Endpoint',
  'select distinct endpoint from api_access_log where $__timeFilter(time) and endpoint is not null order by 1 limit 1000',
);
export const serviceVariable = queryVariable(
  'service',
  'External service',
  'select distinct service from external_api_call_log where $__timeFilter(time) and service is not null order by 1',
);
export const eventTypeVariable = queryVariable(
  'event_type',
  'Event type',
  'select distinct event_type from authentication_log where $__timeFilter(time) order by 1',
);
export const statusVariable = customVariable('status', 'Status class', ['2xx', '3xx', '4xx', '5xx', 'none']);
export const userVariable = textVariable('user', 'User id', 'Exact user id; empty for everyone');
export const searchVariable = textVariable(
  'search',
  'Search',
  'Part of a path, error message or user agent, or a whole trace id; empty for everything',
);

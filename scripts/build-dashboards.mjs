// @ts-check
/**
 * Writes grafana/dashboards/*.json from the compact definitions below: panel ids, grid
 * positions, datasource references and variables are filled in the same way everywhere, so
 * the four dashboards stay consistent. Run `node scripts/build-dashboards.mjs` after changing a
 * panel; a test fails when the committed JSON and this file disagree. (Editing a dashboard in
 * Grafana and exporting it is fine too: then paste the SQL back here.)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The provisioned data source (grafana/provisioning/datasources/otel-pg-analytics.yaml). */
export const DATASOURCE = Object.freeze({ type: 'grafana-postgresql-datasource', uid: 'otel-pg-analytics' });

/** A custom All value: inserted raw, so `'__all' in ($var)` folds to true and drops the filter. */
const ALL_VALUE = "'__all'";

/**
 * @typedef {{ type: string, title: string, description?: string, w: number, h: number,
 *   format: 'time_series' | 'table', sql: string, unit?: string, options?: Record<string, unknown>,
 *   custom?: Record<string, unknown>, overrides?: { name: string, unit?: string, displayName?: string }[],
 *   decimals?: number }} PanelSpec
 */

/** @param {string} name @param {string} label @param {string} sql */
function queryVariable(name, label, sql) {
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
function customVariable(name, label, values, opts = {}) {
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
function textVariable(name, label, description) {
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

const appVariable = (/** @type {string} */ table) =>
  queryVariable(
    'app',
    'App (service.name)',
    `select distinct service_name from ${table} where $__timeFilter(time) and service_name is not null order by 1`,
  );
const endpointVariable = queryVariable(
  'endpoint',
  'Endpoint',
  'select distinct endpoint from api_access_log where $__timeFilter(time) and endpoint is not null order by 1 limit 1000',
);
const serviceVariable = queryVariable(
  'service',
  'External service',
  'select distinct service from external_api_call_log where $__timeFilter(time) and service is not null order by 1',
);
const eventTypeVariable = queryVariable(
  'event_type',
  'Event type',
  'select distinct event_type from authentication_log where $__timeFilter(time) order by 1',
);
const statusVariable = customVariable('status', 'Status class', ['2xx', '3xx', '4xx', '5xx', 'none']);
const userVariable = textVariable('user', 'User id', 'Exact user id; empty for everyone');
const searchVariable = textVariable(
  'search',
  'Search',
  'Part of a path, error message or user agent, or a whole trace id; empty for everything',
);

// Filters: '__all' in (...) is a constant PostgreSQL folds away, so with a real selection only
// `column in (...)` remains, and it can use the (column, time) index.
const APP = `('__all' in ($app) or service_name in ($app))`;
const ENDPOINT = `('__all' in ($endpoint) or endpoint in ($endpoint))`;
const USER = `('$user' = '' or user_id = '$user')`;
const STATUS = `('__all' in ($status) or status_class in ($status))`;
const EVENT_TYPE = `('__all' in ($event_type) or event_type in ($event_type))`;
const SERVICE = `('__all' in ($service) or service in ($service))`;

const API_WHERE = `$__timeFilter(time) and ${APP} and ${ENDPOINT} and ${USER}`;
const AUTH_WHERE = `$__timeFilter(time) and ${APP} and ${EVENT_TYPE}`;
const EXT_WHERE = `$__timeFilter(time) and ${SERVICE} and ${USER}`;

/** @type {PanelSpec[]} */
const apiPanels = [
  {
    type: 'stat',
    title: 'Requests',
    description: 'Requests served in the range, sampled rows counted by their sample_weight.',
    w: 6,
    h: 4,
    format: 'table',
    unit: 'short',
    sql: `select coalesce(sum(sample_weight), 0) as "Requests"
from analytics_api_requests
where ${API_WHERE}`,
  },
  {
    type: 'stat',
    title: 'Requests per second',
    description: 'Average over the range.',
    w: 6,
    h: 4,
    format: 'table',
    unit: 'reqps',
    sql: `select coalesce(sum(sample_weight), 0)
         / greatest(extract(epoch from $__timeTo()::timestamptz - $__timeFrom()::timestamptz), 1) as "req/s"
from analytics_api_requests
where ${API_WHERE}`,
  },
  {
    type: 'stat',
    title: 'Server error rate',
    description: 'Share of requests that ended in a 5xx, or failed without a status.',
    w: 6,
    h: 4,
    format: 'table',
    unit: 'percent',
    sql: `select coalesce(100 * sum(sample_weight) filter (where is_error) / nullif(sum(sample_weight), 0), 0) as "5xx %"
from analytics_api_requests
where ${API_WHERE}`,
  },
  {
    type: 'stat',
    title: 'p95 latency',
    description:
      'Over recorded rows (slow requests and 5xx are never sampled away, so with sampling on this leans high).',
    w: 6,
    h: 4,
    format: 'table',
    unit: 'ms',
    sql: `select coalesce(percentile_cont(0.95) within group (order by response_time_ms), 0) as "p95"
from analytics_api_requests
where ${API_WHERE}`,
  },
  {
    type: 'timeseries',
    title: 'Requests per second by status class',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'reqps',
    custom: { stacking: { mode: 'normal', group: 'A' }, fillOpacity: 30 },
    sql: `select $__timeGroupAlias(time, $__interval, 0), status_class as metric,
       sum(sample_weight) / ($__interval_ms / 1000.0) as "req/s"
from analytics_api_requests
where ${API_WHERE}
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Error rate',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'percent',
    sql: `select $__timeGroupAlias(time, $__interval),
       100 * sum(sample_weight) filter (where is_error) / sum(sample_weight) as "5xx %",
       100 * coalesce(sum(sample_weight) filter (where status_class = '4xx'), 0) / sum(sample_weight) as "4xx %"
from analytics_api_requests
where ${API_WHERE}
group by 1
order by 1`,
  },
  {
    type: 'timeseries',
    title: 'Latency percentiles',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'ms',
    sql: `select $__timeGroupAlias(time, $__interval),
       percentile_cont(0.5) within group (order by response_time_ms) as "p50",
       percentile_cont(0.95) within group (order by response_time_ms) as "p95",
       percentile_cont(0.99) within group (order by response_time_ms) as "p99"
from analytics_api_requests
where ${API_WHERE}
group by 1
order by 1`,
  },
  {
    type: 'timeseries',
    title: 'p95 latency of the 10 busiest endpoints',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'ms',
    sql: `with busiest as (
  select route from analytics_api_requests
  where ${API_WHERE}
  group by route order by sum(sample_weight) desc limit 10
)
select $__timeGroupAlias(time, $__interval), route as metric,
       percentile_cont(0.95) within group (order by response_time_ms) as "p95"
from analytics_api_requests
where ${API_WHERE} and route in (select route from busiest)
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'table',
    title: 'Endpoints, busiest first',
    w: 24,
    h: 10,
    format: 'table',
    overrides: [
      { name: 'req/s', unit: 'reqps' },
      { name: '4xx %', unit: 'percent' },
      { name: '5xx %', unit: 'percent' },
      { name: 'p50 ms', unit: 'ms' },
      { name: 'p95 ms', unit: 'ms' },
      { name: 'p99 ms', unit: 'ms' },
      { name: 'avg response', unit: 'bytes' },
    ],
    sql: `select route as "endpoint",
       sum(sample_weight) as "requests",
       sum(sample_weight) / greatest(extract(epoch from $__timeTo()::timestamptz - $__timeFrom()::timestamptz), 1) as "req/s",
       100 * coalesce(sum(sample_weight) filter (where status_class = '4xx'), 0) / sum(sample_weight) as "4xx %",
       100 * coalesce(sum(sample_weight) filter (where is_error), 0) / sum(sample_weight) as "5xx %",
       percentile_cont(0.5) within group (order by response_time_ms) as "p50 ms",
       percentile_cont(0.95) within group (order by response_time_ms) as "p95 ms",
       percentile_cont(0.99) within group (order by response_time_ms) as "p99 ms",
       avg(response_size) as "avg response"
from analytics_api_requests
where ${API_WHERE}
group by route
order by 2 desc
limit 100`,
  },
  {
    type: 'table',
    title: 'Slowest endpoints (p95, at least 5 requests)',
    w: 12,
    h: 9,
    format: 'table',
    overrides: [
      { name: 'p95 ms', unit: 'ms' },
      { name: 'p99 ms', unit: 'ms' },
      { name: 'max ms', unit: 'ms' },
    ],
    sql: `select route as "endpoint",
       percentile_cont(0.95) within group (order by response_time_ms) as "p95 ms",
       percentile_cont(0.99) within group (order by response_time_ms) as "p99 ms",
       max(response_time_ms) as "max ms",
       sum(sample_weight) as "requests"
from analytics_api_requests
where ${API_WHERE}
group by route
having count(*) >= 5
order by 2 desc
limit 15`,
  },
  {
    type: 'piechart',
    title: 'Status codes',
    w: 12,
    h: 9,
    format: 'table',
    options: { reduceOptions: { values: true, calcs: ['lastNotNull'], fields: '' }, pieType: 'donut' },
    sql: `select coalesce(status_code::text, 'none') as "status", sum(sample_weight) as "requests"
from analytics_api_requests
where ${API_WHERE}
group by 1
order by 2 desc`,
  },
  {
    type: 'table',
    title: 'Top users',
    w: 24,
    h: 9,
    format: 'table',
    overrides: [
      { name: 'p95 ms', unit: 'ms' },
      { name: 'last seen', unit: 'dateTimeAsIso' },
    ],
    sql: `select user_id as "user",
       sum(sample_weight) as "requests",
       coalesce(sum(sample_weight) filter (where is_error), 0) as "5xx",
       count(distinct endpoint) as "endpoints",
       percentile_cont(0.95) within group (order by response_time_ms) as "p95 ms",
       max(time) as "last seen"
from analytics_api_requests
where ${API_WHERE} and user_id is not null
group by user_id
order by 2 desc
limit 25`,
  },
  {
    type: 'timeseries',
    title: 'Requests and server errors per hour (hourly rollup: fast over 30 days)',
    description:
      'From analytics_api_hourly, kept by a trigger as rows are written: reads a few rows per hour rather than every request. Filters by app and endpoint (not by user).',
    w: 24,
    h: 8,
    format: 'time_series',
    unit: 'short',
    sql: `select $__timeGroupAlias(hour, '1h'), sum(requests) as "requests", sum(errors) as "server errors"
from analytics_api_hourly
where $__timeFilter(hour) and ${APP} and ${ENDPOINT}
group by 1
order by 1`,
  },
];

/** @type {PanelSpec[]} */
const authPanels = [
  {
    type: 'stat',
    title: 'Events in range',
    w: 24,
    h: 4,
    format: 'table',
    unit: 'short',
    sql: `select count(*) filter (where event_type = 'login' and success) as "Logins",
       count(*) filter (where not success) as "Failed",
       count(*) filter (where event_type = 'signup' and success) as "Sign-ups",
       count(*) filter (where event_type = 'password_reset') as "Password resets"
from authentication_log
where ${AUTH_WHERE}`,
  },
  {
    type: 'timeseries',
    title: 'Events by type',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'short',
    custom: { drawStyle: 'bars', stacking: { mode: 'normal', group: 'A' }, fillOpacity: 60 },
    sql: `select $__timeGroupAlias(time, $__interval, 0),
       event_type || case when success then '' else ' (failed)' end as metric,
       count(*) as "events"
from authentication_log
where ${AUTH_WHERE}
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Failures and the addresses they came from',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'short',
    sql: `select $__timeGroupAlias(time, $__interval, 0),
       count(*) as "failures",
       count(distinct ip_address) as "addresses"
from authentication_log
where ${AUTH_WHERE} and not success
group by 1
order by 1`,
  },
  {
    type: 'table',
    title: 'Bursts of failures (possible brute force)',
    description:
      'Addresses with at least $min_failures failures within one $burst_window window (analytics_failed_login_bursts). Many accounts from one address: password spraying; one account: guessing.',
    w: 24,
    h: 8,
    format: 'table',
    sql: `select window_start as "window", host(ip_address) as "ip", failures as "failures",
       accounts as "accounts tried", first_failure as "first", last_failure as "last",
       case when accounts >= 5 then 'many accounts (spraying)' else 'few accounts (guessing)' end as "pattern"
from analytics_failed_login_bursts($__timeFrom(), $__timeTo(), '$burst_window', $min_failures)
order by failures desc, window_start desc
limit 100`,
  },
  {
    type: 'table',
    title: 'Failed logins by IP',
    w: 12,
    h: 9,
    format: 'table',
    sql: `select host(ip_address) as "ip", count(*) as "failures", count(distinct user_id) as "accounts",
       min(time) as "first", max(time) as "last"
from authentication_log
where ${AUTH_WHERE} and not success
group by ip_address
order by 2 desc
limit 50`,
  },
  {
    type: 'table',
    title: 'Failed logins by user',
    w: 12,
    h: 9,
    format: 'table',
    sql: `select user_id as "user", count(*) as "failures", count(distinct ip_address) as "addresses",
       max(time) as "last"
from authentication_log
where ${AUTH_WHERE} and not success and user_id is not null
group by user_id
order by 2 desc
limit 50`,
  },
  {
    type: 'timeseries',
    title: 'Sign-ups and password resets',
    w: 24,
    h: 8,
    format: 'time_series',
    unit: 'short',
    custom: { drawStyle: 'bars', fillOpacity: 60 },
    sql: `select $__timeGroupAlias(time, $__interval, 0),
       count(*) filter (where event_type = 'signup' and success) as "sign-ups",
       count(*) filter (where event_type = 'signup' and not success) as "failed sign-ups",
       count(*) filter (where event_type = 'password_reset') as "password resets"
from authentication_log
where $__timeFilter(time) and ${APP} and event_type in ('signup', 'password_reset')
group by 1
order by 1`,
  },
  {
    type: 'timeseries',
    title: 'Events per hour, succeeded and failed (hourly rollup: fast over 30 days)',
    description: 'From analytics_auth_hourly, kept by a trigger as rows are written.',
    w: 24,
    h: 8,
    format: 'time_series',
    unit: 'short',
    sql: `select $__timeGroupAlias(hour, '1h'),
       coalesce(sum(events) filter (where success), 0) as "succeeded",
       coalesce(sum(events) filter (where not success), 0) as "failed"
from analytics_auth_hourly
where $__timeFilter(hour) and ${APP} and ${EVENT_TYPE}
group by 1
order by 1`,
  },
];

/** @type {PanelSpec[]} */
const externalPanels = [
  {
    type: 'stat',
    title: 'External calls in range',
    w: 24,
    h: 4,
    format: 'table',
    overrides: [
      { name: 'Calls', unit: 'short' },
      { name: 'Cost', unit: 'currencyUSD' },
      { name: 'Errors', unit: 'percent' },
      { name: 'Tokens', unit: 'short' },
    ],
    sql: `select count(*) as "Calls",
       coalesce(sum(cost_estimate), 0) as "Cost",
       coalesce(100.0 * count(*) filter (where is_error) / nullif(count(*), 0), 0) as "Errors",
       coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) as "Tokens"
from analytics_external_calls
where ${EXT_WHERE}`,
  },
  {
    type: 'timeseries',
    title: 'Calls by service',
    w: 8,
    h: 8,
    format: 'time_series',
    unit: 'short',
    sql: `select $__timeGroupAlias(time, $__interval, 0), service as metric, count(*) as "calls"
from analytics_external_calls
where ${EXT_WHERE}
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'p95 latency by service',
    w: 8,
    h: 8,
    format: 'time_series',
    unit: 'ms',
    sql: `select $__timeGroupAlias(time, $__interval), service as metric,
       percentile_cont(0.95) within group (order by response_time_ms) as "p95"
from analytics_external_calls
where ${EXT_WHERE}
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Errors by service',
    w: 8,
    h: 8,
    format: 'time_series',
    unit: 'short',
    custom: { drawStyle: 'bars', fillOpacity: 60 },
    sql: `select $__timeGroupAlias(time, $__interval, 0), service as metric, count(*) as "errors"
from analytics_external_calls
where ${EXT_WHERE} and is_error
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Cost per day by service',
    w: 8,
    h: 8,
    format: 'time_series',
    unit: 'currencyUSD',
    custom: { drawStyle: 'bars', stacking: { mode: 'normal', group: 'A' }, fillOpacity: 70 },
    sql: `select $__timeGroupAlias(time, '1d', 0), service as metric, coalesce(sum(cost_estimate), 0) as "cost"
from analytics_external_calls
where ${EXT_WHERE}
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Cost per day by model',
    w: 8,
    h: 8,
    format: 'time_series',
    unit: 'currencyUSD',
    custom: { drawStyle: 'bars', stacking: { mode: 'normal', group: 'A' }, fillOpacity: 70 },
    sql: `select $__timeGroupAlias(time, '1d', 0), model as metric, coalesce(sum(cost_estimate), 0) as "cost"
from analytics_external_calls
where ${EXT_WHERE} and model is not null
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Cost per day of the 10 costliest users',
    w: 8,
    h: 8,
    format: 'time_series',
    unit: 'currencyUSD',
    custom: { drawStyle: 'bars', stacking: { mode: 'normal', group: 'A' }, fillOpacity: 70 },
    sql: `with costliest as (
  select user_id from analytics_external_calls
  where ${EXT_WHERE} and user_id is not null
  group by user_id order by sum(cost_estimate) desc nulls last limit 10
)
select $__timeGroupAlias(time, '1d', 0), user_id as metric, coalesce(sum(cost_estimate), 0) as "cost"
from analytics_external_calls
where ${EXT_WHERE} and user_id in (select user_id from costliest)
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'timeseries',
    title: 'Token volume',
    w: 12,
    h: 8,
    format: 'time_series',
    unit: 'short',
    sql: `select $__timeGroupAlias(time, $__interval, 0),
       coalesce(sum(input_tokens), 0) as "input",
       coalesce(sum(cached_input_tokens), 0) as "cached input",
       coalesce(sum(output_tokens), 0) as "output",
       coalesce(sum(reasoning_tokens), 0) as "reasoning"
from analytics_external_calls
where ${EXT_WHERE}
group by 1
order by 1`,
  },
  {
    type: 'table',
    title: 'Services',
    w: 12,
    h: 8,
    format: 'table',
    overrides: [
      { name: 'error %', unit: 'percent' },
      { name: 'p50 ms', unit: 'ms' },
      { name: 'p95 ms', unit: 'ms' },
      { name: 'cost', unit: 'currencyUSD' },
    ],
    sql: `select service as "service", count(*) as "calls",
       100.0 * count(*) filter (where is_error) / count(*) as "error %",
       percentile_cont(0.5) within group (order by response_time_ms) as "p50 ms",
       percentile_cont(0.95) within group (order by response_time_ms) as "p95 ms",
       coalesce(sum(cost_estimate), 0) as "cost",
       count(*) filter (where cost_estimate is null) as "calls without a price"
from analytics_external_calls
where ${EXT_WHERE}
group by service
order by 6 desc, 2 desc`,
  },
  {
    type: 'table',
    title: 'Cost by model',
    w: 12,
    h: 8,
    format: 'table',
    overrides: [{ name: 'cost', unit: 'currencyUSD' }],
    sql: `select service as "service", model as "model", count(*) as "calls",
       coalesce(sum(input_tokens), 0) as "input tokens", coalesce(sum(output_tokens), 0) as "output tokens",
       coalesce(sum(cost_estimate), 0) as "cost"
from analytics_external_calls
where ${EXT_WHERE} and model is not null
group by service, model
order by 6 desc`,
  },
  {
    type: 'table',
    title: 'Cost by user',
    w: 12,
    h: 8,
    format: 'table',
    overrides: [{ name: 'cost', unit: 'currencyUSD' }],
    sql: `select coalesce(user_id, '(no user)') as "user", count(*) as "calls",
       coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) as "tokens",
       coalesce(sum(cost_estimate), 0) as "cost"
from analytics_external_calls
where ${EXT_WHERE}
group by 1
order by 4 desc
limit 25`,
  },
  {
    type: 'timeseries',
    title: 'Cost per day by service (hourly rollup: fast over 30 days)',
    description:
      'From analytics_external_hourly, kept by a trigger as rows are written. Filters by service (not by user).',
    w: 24,
    h: 8,
    format: 'time_series',
    unit: 'currencyUSD',
    custom: { drawStyle: 'bars', stacking: { mode: 'normal', group: 'A' }, fillOpacity: 60 },
    sql: `select $__timeGroupAlias(hour, '1d'), coalesce(service, '(unknown)') as metric, sum(cost_usd) as "cost"
from analytics_external_hourly
where $__timeFilter(hour) and ${SERVICE}
group by 1, 2
order by 1, 2`,
  },
];

const SEARCH_API = `('$search' = '' or path ilike '%$search%' or error_message ilike '%$search%' or user_agent ilike '%$search%' or trace_id = '$search')`;
const SEARCH_AUTH = `('$search' = '' or host(ip_address) = '$search' or error_message ilike '%$search%' or user_agent ilike '%$search%' or trace_id = '$search')`;
const SEARCH_EXT = `('$search' = '' or endpoint ilike '%$search%' or error_message ilike '%$search%' or model ilike '%$search%' or trace_id = '$search')`;

/** @type {PanelSpec[]} */
const explorePanels = [
  {
    type: 'timeseries',
    title: 'Requests (drag across the chart to drill into a period)',
    w: 24,
    h: 6,
    format: 'time_series',
    unit: 'short',
    custom: { drawStyle: 'bars', stacking: { mode: 'normal', group: 'A' }, fillOpacity: 60 },
    sql: `select $__timeGroupAlias(time, $__interval, 0), status_class as metric, sum(sample_weight) as "requests"
from analytics_api_requests
where ${API_WHERE} and ${STATUS} and ${SEARCH_API}
group by 1, 2
order by 1, 2`,
  },
  {
    type: 'table',
    title: 'API requests (newest 500)',
    w: 24,
    h: 12,
    format: 'table',
    overrides: [
      { name: 'ms', unit: 'ms' },
      { name: 'request', unit: 'bytes' },
      { name: 'response', unit: 'bytes' },
    ],
    sql: `select time as "time", route as "endpoint", path as "path", status_code as "status",
       response_time_ms as "ms", user_id as "user", host(ip_address) as "ip",
       request_size as "request", response_size as "response", error_message as "error",
       sample_weight as "weight", trace_id as "trace id"
from analytics_api_requests
where ${API_WHERE} and ${STATUS} and ${SEARCH_API}
order by time desc
limit 500`,
  },
  {
    type: 'table',
    title: 'Authentication events (newest 500)',
    w: 24,
    h: 10,
    format: 'table',
    sql: `select time as "time", event_type as "event", success as "success", user_id as "user",
       host(ip_address) as "ip", user_agent as "user agent", error_message as "error", trace_id as "trace id"
from authentication_log
where $__timeFilter(time) and ${APP} and ${EVENT_TYPE} and ${USER} and ${SEARCH_AUTH}
order by time desc
limit 500`,
  },
  {
    type: 'table',
    title: 'External calls (newest 500)',
    w: 24,
    h: 10,
    format: 'table',
    overrides: [
      { name: 'ms', unit: 'ms' },
      { name: 'cost', unit: 'currencyUSD' },
    ],
    sql: `select time as "time", service as "service", method as "method", endpoint as "endpoint",
       status_code as "status", response_time_ms as "ms", model as "model",
       input_tokens as "input tokens", output_tokens as "output tokens", cost_estimate as "cost",
       user_id as "user", error_message as "error", trace_id as "trace id"
from analytics_external_calls
where $__timeFilter(time) and ${APP} and ${SERVICE} and ${USER} and ${SEARCH_EXT}
order by time desc
limit 500`,
  },
];

/**
 * @param {{ uid: string, title: string, description: string, panels: PanelSpec[], variables: unknown[] }} spec
 */
function dashboard({ uid, title, description, panels, variables }) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const built = panels.map((panel, index) => {
    if (x + panel.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { h: panel.h, w: panel.w, x, y };
    x += panel.w;
    rowHeight = Math.max(rowHeight, panel.h);
    return {
      id: index + 1,
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

/** The four dashboards, by file name. */
export function buildDashboards() {
  return {
    'api.json': dashboard({
      uid: 'otel-pga-api',
      title: 'API requests',
      description:
        'Traffic, errors and latency of the API, from api_access_log (counts weighted by sample_weight).',
      panels: apiPanels,
      variables: [appVariable('api_access_log'), endpointVariable, userVariable],
    }),
    'auth.json': dashboard({
      uid: 'otel-pga-auth',
      title: 'Authentication and security',
      description: 'Sign-ups, logins, failures and possible brute force, from authentication_log.',
      panels: authPanels,
      variables: [
        appVariable('authentication_log'),
        eventTypeVariable,
        customVariable('burst_window', 'Burst window', ['1 minute', '5 minutes', '15 minutes', '1 hour'], {
          multi: false,
          current: '5 minutes',
        }),
        customVariable('min_failures', 'Failures per burst', ['3', '5', '10', '20', '50'], {
          multi: false,
          current: '5',
        }),
      ],
    }),
    'external.json': dashboard({
      uid: 'otel-pga-external',
      title: 'External APIs and cost',
      description:
        'Calls, latency, errors, tokens and estimated cost (USD) of outbound APIs, from external_api_call_log.',
      panels: externalPanels,
      variables: [serviceVariable, userVariable],
    }),
    'explore.json': dashboard({
      uid: 'otel-pga-explore',
      title: 'Explore',
      description: 'Search and filter every row, newest first, as the Django admin did.',
      panels: explorePanels,
      variables: [
        appVariable('api_access_log'),
        endpointVariable,
        statusVariable,
        userVariable,
        eventTypeVariable,
        serviceVariable,
        searchVariable,
      ],
    }),
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

// @ts-check
/** The external APIs dashboard: calls, latency, errors, tokens and cost, from external_api_call_log. */
import { EXT_WHERE, SERVICE } from './filters.mjs';
import { serviceVariable, userVariable } from './variables.mjs';

/** @type {import('./panel.mjs').PanelSpec[]} */
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

/** @type {import('./dashboard.mjs').DashboardSpec} */
export const externalDashboard = {
  uid: 'otel-pga-external',
  title: 'External APIs and cost',
  description:
    'Calls, latency, errors, tokens and estimated cost (USD) of outbound APIs, from external_api_call_log.',
  panels: externalPanels,
  variables: [serviceVariable, userVariable],
};

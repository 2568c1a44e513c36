// @ts-check
/** The API requests dashboard: traffic, errors and latency, from api_access_log. */
import { API_WHERE, APP, ENDPOINT } from './filters.mjs';
import { appVariable, endpointVariable, userVariable } from './variables.mjs';

/** @type {import('./panel.mjs').PanelSpec[]} */
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

/** @type {import('./dashboard.mjs').DashboardSpec} */
export const apiDashboard = {
  uid: 'otel-pga-api',
  title: 'API requests',
  description:
    'Traffic, errors and latency of the API, from api_access_log (counts weighted by sample_weight).',
  panels: apiPanels,
  variables: [appVariable('api_access_log'), endpointVariable, userVariable],
};

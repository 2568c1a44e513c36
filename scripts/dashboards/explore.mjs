// @ts-check
/** The explore dashboard: every row of the three logs, filtered and searched, newest first. */
import { API_WHERE, APP, EVENT_TYPE, SERVICE, STATUS, USER } from './filters.mjs';
import {
  appVariable,
  endpointVariable,
  eventTypeVariable,
  searchVariable,
  serviceVariable,
  statusVariable,
  userVariable,
} from './variables.mjs';

// What the search box matches in each log.
const SEARCH_API = `('$search' = '' or path ilike '%$search%' or error_message ilike '%$search%' or user_agent ilike '%$search%' or trace_id = '$search')`;
const SEARCH_AUTH = `('$search' = '' or host(ip_address) = '$search' or error_message ilike '%$search%' or user_agent ilike '%$search%' or trace_id = '$search')`;
const SEARCH_EXT = `('$search' = '' or endpoint ilike '%$search%' or error_message ilike '%$search%' or model ilike '%$search%' or trace_id = '$search')`;

/** @type {import('./panel.mjs').PanelSpec[]} */
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

/** @type {import('./dashboard.mjs').DashboardSpec} */
export const exploreDashboard = {
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
};

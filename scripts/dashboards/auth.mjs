// @ts-check
/** The authentication dashboard: sign-ups, logins, failures and bursts, from authentication_log. */
import { APP, AUTH_WHERE, EVENT_TYPE } from './filters.mjs';
import { appVariable, customVariable, eventTypeVariable } from './variables.mjs';

/** @type {import('./panel.mjs').PanelSpec[]} */
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

/** @type {import('./dashboard.mjs').DashboardSpec} */
export const authDashboard = {
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
};

-- otel-pg-analytics migration to version 3: views and a function that the Grafana dashboards
-- and `otel-pg-analytics report` share (see docs/dashboards.md). Nothing is rewritten
-- and no index is added: every dashboard query reaches an existing one (bench/dashboards.mjs).
-- Must leave the database identical to a fresh schema.sql of version 3 (a test checks).

-- API requests with what every panel derives: the route (method and endpoint, the unit
-- dashboards group by), the status class, and whether the request failed on the server side
-- (a 5xx, or no status at all but an error). `sample_weight` stays a column: counts are
-- sum(sample_weight), not count(*), so sampled traffic is counted at its true size.
create or replace view analytics_api_requests as
select
  time, id, service_name, user_id, endpoint, path, method, status_code, response_time_ms,
  ip_address, user_agent, request_size, response_size, error_message, sample_weight, trace_id,
  metadata,
  coalesce(method || ' ', '') || coalesce(endpoint, path, '(unknown)') as route,
  case when status_code between 100 and 599 then (status_code / 100)::text || 'xx' else 'none' end
    as status_class,
  coalesce(status_code >= 500, error_message is not null) as is_error
from api_access_log;

-- External API calls with the model and token counts read out of metadata (null where the
-- call reported none, or where a value is not a number, so one odd row never fails a
-- dashboard), and whether the call failed (a 4xx or 5xx from the provider, or no response).
create or replace view analytics_external_calls as
select
  time, id, service_name, user_id, service, endpoint, method, status_code, response_time_ms,
  cost_estimate, request_size, response_size, error_message, trace_id, metadata,
  coalesce(metadata ->> 'response_model', metadata ->> 'request_model') as model,
  case when jsonb_typeof(metadata -> 'input_tokens') = 'number'
    then (metadata ->> 'input_tokens')::numeric end as input_tokens,
  case when jsonb_typeof(metadata -> 'output_tokens') = 'number'
    then (metadata ->> 'output_tokens')::numeric end as output_tokens,
  case when jsonb_typeof(metadata -> 'cached_input_tokens') = 'number'
    then (metadata ->> 'cached_input_tokens')::numeric end as cached_input_tokens,
  case when jsonb_typeof(metadata -> 'reasoning_tokens') = 'number'
    then (metadata ->> 'reasoning_tokens')::numeric end as reasoning_tokens,
  coalesce(status_code >= 400, true) or error_message is not null as is_error
from external_api_call_log;

-- Bursts of failed authentication from one IP address: per fixed window of `burst_window`,
-- addresses with at least `min_failures` failed events (login_failed, or any event recorded
-- as unsuccessful) between range_from (inclusive) and range_to (exclusive), with how many
-- accounts they tried. Many failures over many accounts is password spraying; over one
-- account, guessing. A SQL function so PostgreSQL inlines it into the calling query.
create or replace function analytics_failed_login_bursts(
  range_from timestamptz,
  range_to timestamptz,
  burst_window interval default interval '5 minutes',
  min_failures integer default 5
)
returns table (
  ip_address inet,
  window_start timestamptz,
  failures bigint,
  accounts bigint,
  first_failure timestamptz,
  last_failure timestamptz
)
language sql
stable
as $$
  select a.ip_address,
         to_timestamp(floor(extract(epoch from a.time) / extract(epoch from burst_window))
                      * extract(epoch from burst_window)) as window_start,
         count(*) as failures,
         count(distinct a.user_id) as accounts,
         min(a.time) as first_failure,
         max(a.time) as last_failure
  from authentication_log a
  where not a.success and a.time >= range_from and a.time < range_to
  group by 1, 2
  having count(*) >= min_failures
$$;

insert into analytics_schema_version (version, description)
values (3, 'dashboard views: analytics_api_requests, analytics_external_calls, analytics_failed_login_bursts')
on conflict (version) do nothing;

-- otel-pg-analytics schema, version 3.
--
-- The full, latest schema. Idempotent: applying it again changes nothing. Apply it with
-- `otel-pg-analytics migrate`, which also upgrades older databases in place through the
-- ordered files in migrations/ and records the version in analytics_schema_version.
--
-- Keys are chosen so the tables can be partitioned by time later without rewriting them:
-- primary key (time, id) and unique (span_id, time). The exporter writes with
-- ON CONFLICT DO NOTHING and no conflict target (a target would need SELECT privilege), so a
-- retried batch never duplicates rows. The exporter's role needs INSERT on the three log tables
-- and on analytics_pipeline_stats, and nothing else.
--
-- Text limits the exporter enforces before writing (UTF-8 bytes): indexed columns
-- (endpoint, user_id, service, event_type) 1024; path 2048; user_agent 1024;
-- error_message 4096; query_params 8192 and metadata 16384 as JSON text.
--
-- Version 2 added analytics_pipeline_stats (migrations/0002-pipeline-stats.sql); version 3 the
-- dashboard views (migrations/0003-dashboard-views.sql).

create table if not exists analytics_schema_version (
  version integer primary key,
  description text not null,
  applied_at timestamptz not null default now()
);

-- One row per API request the service answered.
create table if not exists api_access_log (
  id bigint generated always as identity,
  time timestamptz not null,
  trace_id text,
  span_id text not null,
  service_name text,
  user_id text,
  endpoint text,
  path text,
  method text,
  status_code integer,
  response_time_ms double precision,
  ip_address inet,
  peer_address inet,
  user_agent text,
  request_size bigint,
  response_size bigint,
  query_params jsonb,
  error_message text,
  sample_weight double precision not null default 1,
  metadata jsonb,
  primary key (time, id),
  unique (span_id, time)
);

-- One row per authentication event (signup, login, login_failed, logout, password_reset...).
create table if not exists authentication_log (
  id bigint generated always as identity,
  time timestamptz not null,
  trace_id text,
  span_id text not null,
  service_name text,
  user_id text,
  event_type text not null,
  ip_address inet,
  user_agent text,
  success boolean not null,
  error_message text,
  metadata jsonb,
  primary key (time, id),
  unique (span_id, time)
);

-- One row per call the service made to an external API.
create table if not exists external_api_call_log (
  id bigint generated always as identity,
  time timestamptz not null,
  trace_id text,
  span_id text not null,
  service_name text,
  user_id text,
  service text,
  endpoint text,
  method text,
  status_code integer,
  response_time_ms double precision,
  cost_estimate numeric(14, 8),
  request_size bigint,
  response_size bigint,
  error_message text,
  metadata jsonb,
  primary key (time, id),
  unique (span_id, time)
);

-- The exporter's own health: each process inserts a snapshot now and then (and a last one,
-- final, when it shuts down). Counters are cumulative since started_at, so what happened
-- over a window is the latest snapshot minus the one before the window; gauges are as of
-- the snapshot. `otel-pg-analytics doctor` reads it.
create table if not exists analytics_pipeline_stats (
  id bigint generated always as identity,
  time timestamptz not null,
  service_name text,
  -- One per process: '<host>/<pid>/<start time ms>'.
  instance_id text not null,
  host text,
  pid integer,
  -- When the process's exporter started.
  started_at timestamptz,
  -- True on the snapshot written as the exporter shuts down, so a process that ended is told
  -- apart from one that stopped reporting.
  final boolean not null default false,
  -- Gauges: rows in memory waiting to be written; bytes waiting in the on-disk spool.
  queued_rows bigint not null default 0,
  spool_bytes bigint not null default 0,
  -- Cumulative since started_at.
  exported_rows bigint not null default 0,
  retries bigint not null default 0,
  spooled_rows bigint not null default 0,
  replayed_rows bigint not null default 0,
  -- Cumulative, by reason: rows given up on ({"queue_full": 3}), rows PostgreSQL refused.
  dropped_rows jsonb not null default '{}',
  rejected_rows jsonb not null default '{}',
  last_error text,
  primary key (time, id)
);

-- Indexes follow the questions users ask. Recent traffic by time is served by the primary
-- key (time, id); the rest lead with the filter column and end with time.
create index if not exists api_access_log_endpoint_time_idx on api_access_log (endpoint, time);
create index if not exists api_access_log_user_time_idx on api_access_log (user_id, time)
  where user_id is not null;
create index if not exists api_access_log_errors_time_idx on api_access_log (time)
  where status_code >= 400 or error_message is not null;

create index if not exists authentication_log_type_time_idx on authentication_log (event_type, time);
create index if not exists authentication_log_user_time_idx on authentication_log (user_id, time)
  where user_id is not null;
create index if not exists authentication_log_failed_ip_time_idx on authentication_log (ip_address, time)
  where not success;

create index if not exists external_api_call_log_service_time_idx on external_api_call_log (service, time);
create index if not exists external_api_call_log_user_time_idx on external_api_call_log (user_id, time)
  where user_id is not null;

create index if not exists analytics_pipeline_stats_instance_time_idx
  on analytics_pipeline_stats (instance_id, time);

-- Views and a function that the Grafana dashboards (grafana/) and `otel-pg-analytics report`
-- share: a stable contract. Columns are only ever added at the end (CREATE OR REPLACE VIEW
-- cannot drop or reorder them), so queries written against them keep working. They are plain
-- views over the log tables: a filter on time, endpoint, user_id or service reaches the
-- tables' indexes as if the query named the table itself. The reader role (otel_analytics_reader,
-- from `migrate --roles`) reads them; they grant nothing beyond the tables' own rows.

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
values (3, 'api_access_log, authentication_log, external_api_call_log, analytics_pipeline_stats, dashboard views')
on conflict (version) do nothing;

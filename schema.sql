-- otel-pg-analytics schema, version 2.
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
-- Version 2 added analytics_pipeline_stats (migrations/0002-pipeline-stats.sql).

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

insert into analytics_schema_version (version, description)
values (2, 'api_access_log, authentication_log, external_api_call_log, analytics_pipeline_stats')
on conflict (version) do nothing;

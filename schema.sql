-- otel-pg-analytics schema, version 1.
--
-- The full, latest schema. Idempotent: applying it again changes nothing. Apply it with
-- `otel-pg-analytics migrate`, which also upgrades older databases in place through the
-- ordered files in migrations/ and records the version in analytics_schema_version.
--
-- Keys are chosen so the tables can be partitioned by time later without rewriting them:
-- primary key (time, id) and unique (span_id, time). The exporter writes with
-- ON CONFLICT DO NOTHING and no conflict target (a target would need SELECT privilege), so a
-- retried batch never duplicates rows.
--
-- Text limits the exporter enforces before writing (UTF-8 bytes): indexed columns
-- (endpoint, user_id, service, event_type) 1024; path 2048; user_agent 1024;
-- error_message 4096; query_params 8192 and metadata 16384 as JSON text.

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

insert into analytics_schema_version (version, description)
values (1, 'api_access_log, authentication_log, external_api_call_log')
on conflict (version) do nothing;

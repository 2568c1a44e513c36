-- otel-pg-analytics schema, version 6.
--
-- The full, latest schema. Idempotent: applying it again changes nothing. Apply it with
-- `otel-pg-analytics migrate`, which also upgrades older databases in place through the
-- ordered files in migrations/ and records the version in analytics_schema_version.
--
-- The three log tables are partitioned by UTC day on time (a DEFAULT partition takes any row no
-- daily partition covers, so none is ever refused); analytics_ensure_partitions() creates the
-- days ahead and analytics_prune_partitions() drops expired ones (the owner role runs both:
-- `otel-pg-analytics migrate`, `partitions`, `prune`, or a scheduled job). Keys include the
-- partition key: primary key (time, id) and unique (span_id, time). The exporter writes with
-- ON CONFLICT DO NOTHING and no conflict target (a target would need SELECT privilege), so a
-- retried batch never duplicates rows. The exporter's role needs INSERT on the three log tables
-- and on analytics_pipeline_stats, and nothing else.
--
-- Text limits the exporter enforces before writing (UTF-8 bytes): indexed columns
-- (endpoint, user_id, service, event_type) 1024; path 2048; user_agent 1024;
-- error_message 4096; query_params 8192 and metadata 16384 as JSON text.
--
-- Version 2 added analytics_pipeline_stats (migrations/0002-pipeline-stats.sql); version 3 the
-- dashboard views (migrations/0003-dashboard-views.sql); version 4 daily partitions and
-- retention, and hourly rollups (migrations/0004-daily-partitions.sql); version 5 rollups that
-- follow deletes and updates too (migrations/0005-rollups-follow-changes.sql); version 6
-- functions that resolve no name through a caller's search_path (migrations/0006-pinned-search-paths.sql).
--
-- Everything is created in the schema first on the search_path (`public` unless the connection
-- says otherwise). A schema every role may create in is refused (PUBLIC's CREATE on `public`, the
-- default before PostgreSQL 15): any role could plant there a function that beats a built-in by
-- a closer type match in the owner's own statements. The functions below resolve nothing
-- through a caller's search_path.

do $$
declare
  target text := pg_catalog.current_schema();
begin
  if target is null then
    raise exception 'no schema to create the tables in: the search_path (%) names none that exists',
      pg_catalog.current_setting('search_path');
  end if;
  if pg_catalog.has_schema_privilege('public', target, 'CREATE') then
    raise exception 'schema % is writable by every role (PUBLIC may CREATE in it, the default before PostgreSQL 15): any role could then run code as the owner of the tables',
      pg_catalog.quote_ident(target)
      using hint = pg_catalog.format('Run REVOKE CREATE ON SCHEMA %I FROM PUBLIC as the owner of the schema (or keep the tables in a schema of their own), then apply it again.', target);
  end if;
end
$$;

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
) partition by range (time);
create table if not exists api_access_log_default partition of api_access_log default;

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
) partition by range (time);
create table if not exists authentication_log_default partition of authentication_log default;

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
) partition by range (time);
create table if not exists external_api_call_log_default partition of external_api_call_log default;

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
-- (a 5xx, or no status at all but an error; a client that went away before the answer, nginx's
-- 499, is not the server's failure). `sample_weight` stays a column: counts are
-- sum(sample_weight), not count(*), so sampled traffic is counted at its true size.
create or replace view analytics_api_requests as
select
  time, id, service_name, user_id, endpoint, path, method, status_code, response_time_ms,
  ip_address, user_agent, request_size, response_size, error_message, sample_weight, trace_id,
  metadata,
  coalesce(method || ' ', '') || coalesce(endpoint, path, '(unknown)') as route,
  case when status_code between 100 and 599 then (status_code / 100)::text || 'xx' else 'none' end
    as status_class,
  coalesce(status_code >= 500, error_message is not null and metadata ->> 'no_response' is distinct from 'client_closed')
    as is_error
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
-- account, guessing. A SQL function so PostgreSQL inlines it into the calling query; its body is
-- SQL-standard (BEGIN ATOMIC), so its names were bound when it was created, whoever calls it.
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
begin atomic
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
  having count(*) >= min_failures;
end;

-- Hourly rollups, so 7- and 30-day panels read a few thousand rows instead of millions. Kept
-- up to date by statement-level triggers that aggregate each statement's changed rows (its
-- transition table: rows an ON CONFLICT DO NOTHING skipped are not in it, so a replayed batch
-- counts once) and add them in (or take them out) with one upsert. The trigger functions run as their owner
-- (SECURITY DEFINER), so the INSERT-only writer needs no right on the rollups. Since they run
-- as the owner on the writer's behalf, nothing in them may resolve to an object the writer can
-- make: they name the schema's tables and function with the schema (written in for @schema@
-- when created) and find everything else in pg_catalog alone (search_path pg_catalog, pg_temp:
-- pg_temp last, as PostgreSQL documents, so a temporary table never shadows anything; the
-- schema absent, so an overload made there by a role that may create in it never beats a
-- built-in). Only the owner may execute them, so no one attaches them to a table of their own.
-- Requests are weighted by sample_weight, like the
-- dashboards' counts. latency_buckets[i] holds the requests whose response time falls in
-- bucket i - 1 of width_bucket(response_time_ms, analytics_latency_bounds_ms()): under 5 ms,
-- 5 to 10 ms, ..., 10 s and over (12 buckets), enough for percentiles to within a bucket.
create or replace function analytics_latency_bounds_ms() returns double precision[]
language sql immutable parallel safe
return array[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]::double precision[];

create table if not exists analytics_api_hourly (
  hour timestamptz not null,
  service_name text,
  endpoint text,
  method text,
  status_class text not null,
  requests double precision not null,
  errors double precision not null,
  response_time_ms_sum double precision not null,
  latency_buckets double precision[] not null,
  unique nulls not distinct (hour, service_name, endpoint, method, status_class)
);

create table if not exists analytics_auth_hourly (
  hour timestamptz not null,
  service_name text,
  event_type text not null,
  success boolean not null,
  events bigint not null,
  unique nulls not distinct (hour, service_name, event_type, success)
);

create table if not exists analytics_external_hourly (
  hour timestamptz not null,
  service_name text,
  service text,
  model text,
  calls bigint not null,
  errors bigint not null,
  cost_usd numeric not null,
  input_tokens numeric not null,
  output_tokens numeric not null,
  response_time_ms_sum double precision not null,
  unique nulls not distinct (hour, service_name, service, model)
);

do $do$
begin
  execute pg_catalog.replace($ddl$
create or replace function @schema@.analytics_roll_up_api() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  -- +1 adds the statement's rows (INSERT, and the new side of an UPDATE), -1 takes them away
  -- (DELETE, and the old side of an UPDATE).
  s integer := coalesce(tg_argv[0], '1')::integer;
begin
  insert into @schema@.analytics_api_hourly as h
    (hour, service_name, endpoint, method, status_class, requests, errors, response_time_ms_sum, latency_buckets)
  select hour, service_name, endpoint, method, status_class, sum(w),
    coalesce(sum(w) filter (where failed), 0), coalesce(sum(ms * w), 0),
    array[
      coalesce(sum(w) filter (where b = 0), 0),
      coalesce(sum(w) filter (where b = 1), 0),
      coalesce(sum(w) filter (where b = 2), 0),
      coalesce(sum(w) filter (where b = 3), 0),
      coalesce(sum(w) filter (where b = 4), 0),
      coalesce(sum(w) filter (where b = 5), 0),
      coalesce(sum(w) filter (where b = 6), 0),
      coalesce(sum(w) filter (where b = 7), 0),
      coalesce(sum(w) filter (where b = 8), 0),
      coalesce(sum(w) filter (where b = 9), 0),
      coalesce(sum(w) filter (where b = 10), 0),
      coalesce(sum(w) filter (where b = 11), 0)
    ]
  from (
    select date_trunc('hour', time, 'UTC') as hour, service_name, endpoint, method,
      case when status_code between 100 and 599 then (status_code / 100)::text || 'xx' else 'none' end
        as status_class,
      s * sample_weight as w,
      coalesce(status_code >= 500, error_message is not null and metadata ->> 'no_response' is distinct from 'client_closed') as failed,
      response_time_ms as ms, width_bucket(response_time_ms, @schema@.analytics_latency_bounds_ms()) as b
    from changed_rows
  ) r
  group by 1, 2, 3, 4, 5
  -- Keys in one order in every statement: concurrent writers (a fleet) then lock rollup rows
  -- in the same order and cannot deadlock on them.
  order by 1, 2, 3, 4, 5
  on conflict (hour, service_name, endpoint, method, status_class) do update set
    requests = h.requests + excluded.requests,
    errors = h.errors + excluded.errors,
    response_time_ms_sum = h.response_time_ms_sum + excluded.response_time_ms_sum,
    latency_buckets = array(
      select a + b from unnest(h.latency_buckets, excluded.latency_buckets) as t(a, b)
    );
  return null;
end
$body$;

create or replace function @schema@.analytics_roll_up_auth() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  s integer := coalesce(tg_argv[0], '1')::integer;
begin
  insert into @schema@.analytics_auth_hourly as h (hour, service_name, event_type, success, events)
  select date_trunc('hour', time, 'UTC'), service_name, event_type, success, sum(s)
  from changed_rows
  group by 1, 2, 3, 4
  order by 1, 2, 3, 4
  on conflict (hour, service_name, event_type, success) do update set events = h.events + excluded.events;
  return null;
end
$body$;

create or replace function @schema@.analytics_roll_up_external() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  s integer := coalesce(tg_argv[0], '1')::integer;
begin
  insert into @schema@.analytics_external_hourly as h
    (hour, service_name, service, model, calls, errors, cost_usd, input_tokens, output_tokens, response_time_ms_sum)
  select date_trunc('hour', time, 'UTC'), service_name, service,
    coalesce(metadata ->> 'response_model', metadata ->> 'request_model'),
    sum(s), coalesce(sum(s) filter (where coalesce(status_code >= 400, true) or error_message is not null), 0),
    coalesce(sum(s * cost_estimate), 0),
    coalesce(sum(case when jsonb_typeof(metadata -> 'input_tokens') = 'number'
      then s * (metadata ->> 'input_tokens')::numeric end), 0),
    coalesce(sum(case when jsonb_typeof(metadata -> 'output_tokens') = 'number'
      then s * (metadata ->> 'output_tokens')::numeric end), 0),
    coalesce(sum(s * response_time_ms), 0)
  from changed_rows
  group by 1, 2, 3, 4
  order by 1, 2, 3, 4
  on conflict (hour, service_name, service, model) do update set
    calls = h.calls + excluded.calls,
    errors = h.errors + excluded.errors,
    cost_usd = h.cost_usd + excluded.cost_usd,
    input_tokens = h.input_tokens + excluded.input_tokens,
    output_tokens = h.output_tokens + excluded.output_tokens,
    response_time_ms_sum = h.response_time_ms_sum + excluded.response_time_ms_sum;
  return null;
end
$body$;

revoke all on function @schema@.analytics_roll_up_api(), @schema@.analytics_roll_up_auth(),
  @schema@.analytics_roll_up_external() from public;
$ddl$, '@schema@', pg_catalog.quote_ident(pg_catalog.current_schema()));
end
$do$;

-- Each statement's rows are added in (INSERT, COPY), taken out (DELETE, as `forget` does) or
-- both (UPDATE, as `reprice --apply` does: out with the old values, in with the new), so the
-- rollups keep matching the rows. A trigger sees one transition table, named changed_rows
-- whichever side it is. Statements on a partition itself (retention's DROP of a day, or its
-- DELETE from the default partition; rows moved into a new day's partition) fire none of them:
-- rollups outlive the raw rows on purpose.
create or replace trigger analytics_api_hourly_rollup after insert on api_access_log
  referencing new table as changed_rows for each statement execute function analytics_roll_up_api('1');
create or replace trigger analytics_api_hourly_rollup_deleted after delete on api_access_log
  referencing old table as changed_rows for each statement execute function analytics_roll_up_api('-1');
create or replace trigger analytics_api_hourly_rollup_updated_new after update on api_access_log
  referencing new table as changed_rows for each statement execute function analytics_roll_up_api('1');
create or replace trigger analytics_api_hourly_rollup_updated_old after update on api_access_log
  referencing old table as changed_rows for each statement execute function analytics_roll_up_api('-1');
create or replace trigger analytics_auth_hourly_rollup after insert on authentication_log
  referencing new table as changed_rows for each statement execute function analytics_roll_up_auth('1');
create or replace trigger analytics_auth_hourly_rollup_deleted after delete on authentication_log
  referencing old table as changed_rows for each statement execute function analytics_roll_up_auth('-1');
create or replace trigger analytics_auth_hourly_rollup_updated_new after update on authentication_log
  referencing new table as changed_rows for each statement execute function analytics_roll_up_auth('1');
create or replace trigger analytics_auth_hourly_rollup_updated_old after update on authentication_log
  referencing old table as changed_rows for each statement execute function analytics_roll_up_auth('-1');
create or replace trigger analytics_external_hourly_rollup after insert on external_api_call_log
  referencing new table as changed_rows for each statement execute function analytics_roll_up_external('1');
create or replace trigger analytics_external_hourly_rollup_deleted after delete on external_api_call_log
  referencing old table as changed_rows for each statement execute function analytics_roll_up_external('-1');
create or replace trigger analytics_external_hourly_rollup_updated_new after update on external_api_call_log
  referencing new table as changed_rows for each statement execute function analytics_roll_up_external('1');
create or replace trigger analytics_external_hourly_rollup_updated_old after update on external_api_call_log
  referencing old table as changed_rows for each statement execute function analytics_roll_up_external('-1');

-- Daily partitions (UTC days) of the three log tables, from days_behind days before today to
-- days_ahead days after it (from the day of `since` instead, when given, as an upgrade does).
-- Rows of a new day already in the DEFAULT partition move into it. Returns the partitions
-- created. Idempotent; the owner role runs it (the exporter's writer may not create tables).
-- Retention: analytics_prune_partitions drops the daily partitions whose day ended before
-- now() - older_than, and deletes the DEFAULT partitions' rows older than that. Returns the
-- partitions dropped. Both run as the owner, so like the rollup functions they find nothing
-- through the search_path but pg_catalog: the schema's name is written in for @schema_name@
-- when they are created, and every statement they build names it.
do $do$
begin
  execute pg_catalog.replace($ddl$
create or replace function analytics_ensure_partitions(
  days_behind integer default 1,
  days_ahead integer default 7,
  since timestamptz default null
) returns setof text
language plpgsql
set search_path = pg_catalog, pg_temp
as $body$
declare
  schema_name constant text := @schema_name@;
  log_table text;
  day date;
  part text;
  lower_bound timestamptz;
  upper_bound timestamptz;
  today date := (now() at time zone 'UTC')::date;
  first_day date := coalesce((since at time zone 'UTC')::date, today - days_behind);
begin
  foreach log_table in array array['api_access_log', 'authentication_log', 'external_api_call_log'] loop
    day := first_day;
    while day <= today + days_ahead loop
      part := log_table || '_p' || to_char(day, 'YYYYMMDD');
      if to_regclass(format('%I.%I', schema_name, part)) is null then
        lower_bound := day::timestamp at time zone 'UTC';
        upper_bound := (day + 1)::timestamp at time zone 'UTC';
        -- Created apart, filled from the default partition, then attached: CREATE ... PARTITION
        -- OF would fail while the default partition holds rows of that day.
        execute format('create table %1$I.%2$I (like %1$I.%3$I including defaults including constraints)',
          schema_name, part, log_table);
        execute format(
          'with moved as (delete from %1$I.%2$I where time >= $1 and time < $2 returning *) insert into %1$I.%3$I select * from moved',
          schema_name, log_table || '_default', part
        ) using lower_bound, upper_bound;
        execute format('alter table %1$I.%2$I attach partition %1$I.%3$I for values from (%4$L) to (%5$L)',
          schema_name, log_table, part, lower_bound, upper_bound);
        return next part;
      end if;
      day := day + 1;
    end loop;
  end loop;
end
$body$;

create or replace function analytics_prune_partitions(older_than interval)
returns setof text
language plpgsql
set search_path = pg_catalog, pg_temp
as $body$
declare
  schema_name constant text := @schema_name@;
  log_table text;
  part record;
  cutoff timestamptz := now() - older_than;
begin
  foreach log_table in array array['api_access_log', 'authentication_log', 'external_api_call_log'] loop
    for part in
      select c.relname
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = to_regclass(format('%I.%I', schema_name, log_table))
        and c.relname ~ ('^' || log_table || '_p[0-9]{8}$')
      order by c.relname
    loop
      if (to_date(right(part.relname, 8), 'YYYYMMDD') + 1)::timestamp at time zone 'UTC' <= cutoff then
        execute format('drop table %I.%I', schema_name, part.relname);
        return next part.relname;
      end if;
    end loop;
    execute format('delete from %I.%I where time < $1', schema_name, log_table || '_default') using cutoff;
  end loop;
end
$body$;
$ddl$, '@schema_name@', pg_catalog.quote_literal(pg_catalog.current_schema()));
end
$do$;

select analytics_ensure_partitions();

insert into analytics_schema_version (version, description)
values (6, 'api_access_log, authentication_log, external_api_call_log (partitioned by day), analytics_pipeline_stats, dashboard views, hourly rollups')
on conflict (version) do nothing;

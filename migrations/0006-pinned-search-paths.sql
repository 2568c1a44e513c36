-- Version 6: no function of the schema resolves a name through the search_path of the session
-- that calls it. The rollup trigger functions run as the tables' owner (SECURITY DEFINER) with
-- the path of the session that created them ("$user", public), so the temporary schema came
-- first: the INSERT-only writer could make a temporary table named like a rollup table, with a
-- trigger of its own, and have that trigger run as the owner (issue 12). They now name the
-- schema's objects with the schema, find everything else in pg_catalog (search_path
-- pg_catalog, pg_temp), and only the owner may execute them; so do the partition functions,
-- which run as the owner too. The SQL functions get SQL-standard bodies, bound when created.
-- A request no client saw answered because the client went away first (no status,
-- metadata.no_response = client_closed) no longer counts as a server error, in the view nor in
-- the rollup's errors. Runs in migrate's one transaction, with the search_path pinned to the
-- tables' schema.

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

create or replace function analytics_latency_bounds_ms() returns double precision[]
language sql immutable parallel safe
return array[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]::double precision[];

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

insert into analytics_schema_version (version, description)
values (6, 'api_access_log, authentication_log, external_api_call_log (partitioned by day), analytics_pipeline_stats, dashboard views, hourly rollups')
on conflict (version) do nothing;

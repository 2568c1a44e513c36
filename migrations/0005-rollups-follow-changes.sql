-- Version 5: the hourly rollups follow deletes and updates of the log tables, not only
-- inserts: `forget` (deletes) and `reprice --apply` (updates cost and model) left them stale.
-- The roll-up functions take a sign (+1 adds the statement's rows, -1 takes them away) and read
-- a transition table named changed_rows; each table gets triggers for DELETE and for both sides
-- of an UPDATE. Rollups already written stay as they are. Runs in migrate's one transaction.

create or replace function analytics_roll_up_api() returns trigger
language plpgsql security definer set search_path from current
as $$
declare
  -- +1 adds the statement's rows (INSERT, and the new side of an UPDATE), -1 takes them away
  -- (DELETE, and the old side of an UPDATE).
  s integer := coalesce(tg_argv[0], '1')::integer;
begin
  insert into analytics_api_hourly as h
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
      s * sample_weight as w, coalesce(status_code >= 500, error_message is not null) as failed,
      response_time_ms as ms, width_bucket(response_time_ms, analytics_latency_bounds_ms()) as b
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
$$;

create or replace function analytics_roll_up_auth() returns trigger
language plpgsql security definer set search_path from current
as $$
declare
  s integer := coalesce(tg_argv[0], '1')::integer;
begin
  insert into analytics_auth_hourly as h (hour, service_name, event_type, success, events)
  select date_trunc('hour', time, 'UTC'), service_name, event_type, success, sum(s)
  from changed_rows
  group by 1, 2, 3, 4
  order by 1, 2, 3, 4
  on conflict (hour, service_name, event_type, success) do update set events = h.events + excluded.events;
  return null;
end
$$;

create or replace function analytics_roll_up_external() returns trigger
language plpgsql security definer set search_path from current
as $$
declare
  s integer := coalesce(tg_argv[0], '1')::integer;
begin
  insert into analytics_external_hourly as h
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
$$;

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

insert into analytics_schema_version (version, description)
values (5, 'api_access_log, authentication_log, external_api_call_log (partitioned by day), analytics_pipeline_stats, dashboard views, hourly rollups')
on conflict (version) do nothing;

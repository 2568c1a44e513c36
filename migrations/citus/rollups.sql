-- Incremental hourly rollups: the same analytics_*_hourly tables the triggers of schema.sql keep,
-- kept instead by a scheduled call, for log tables that may carry no trigger (Citus refuses
-- triggers on distributed tables). Applied after schema.sql (and, on Citus, after layout.sql);
-- idempotent: applying it again changes nothing.
--
-- A watermark per log table (analytics_rollup_progress.rolled_up_to): every row with an id at or
-- below it is in the rollups, no row above it is. analytics_roll_up() moves it to the last id drawn
-- from the table's identity sequence, once the writers that drew ids up to there have finished,
-- adding the rows in between with the triggers' aggregation and ON CONFLICT ... DO UPDATE: in one
-- transaction, so each row is added exactly once. It needs every id drawn from one sequence with
-- no cache (on Citus: writers write through the coordinator) and READ COMMITTED (each statement
-- sees what committed before it). `otel-pg-analytics partitions` calls it; so may pg_cron
-- (`select * from analytics_roll_up()` every minute).
--
-- Rows deleted or updated (`forget`, `reprice --apply`) after they were rolled up are taken out
-- (and put back with their new values) by analytics_rollup_adjust(), in the transaction that
-- changes them, which locks the watermarks first; rows above the watermark need nothing.
--
-- A log table that still has its rollup triggers (single-node) is rolled up by them: there
-- analytics_roll_up() only moves the watermark, and analytics_rollup_adjust() does nothing.
--
-- Like the trigger functions, every function here runs as the tables' owner, names the schema's
-- objects with the schema (written in for @schema@), finds everything else in pg_catalog, and
-- may be executed by the owner only.

create table if not exists analytics_rollup_progress (
  log_table text primary key,
  rolled_up_to bigint not null default 0
);

insert into analytics_rollup_progress (log_table)
values ('api_access_log'), ('authentication_log'), ('external_api_call_log')
on conflict (log_table) do nothing;

do $do$
begin
  execute pg_catalog.replace(pg_catalog.replace($ddl$
-- The rows of api_access_log with after_id < id <= through_id (and, given only_ids, only those
-- ids; only_times, their times, lets the primary key find them), added into the hourly rollup
-- times s (+1 adds, -1 takes away). The aggregation is analytics_roll_up_api()'s, over these
-- rows instead of a statement's transition table. Returns the rows aggregated.
create or replace function @schema@.analytics_roll_up_api_rows(
  s integer, after_id bigint, through_id bigint, only_ids bigint[] default null, only_times timestamptz[] default null
) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  n bigint;
begin
  -- EXECUTE plans with the arguments known: the id range, or the ids and times, reach the index.
  execute $sql$
  with changed_rows as (
    select * from @schema@.api_access_log
    where id > $2 and id <= $3 and ($4::bigint[] is null or (id = any($4) and time = any($5)))
  ),
  g as (
    select hour, service_name, endpoint, method, status_class, count(*) as n, sum(w) as requests,
      coalesce(sum(w) filter (where failed), 0) as errors, coalesce(sum(ms * w), 0) as response_time_ms_sum,
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
      ] as latency_buckets
    from (
      select date_trunc('hour', time, 'UTC') as hour, service_name, endpoint, method,
        case when status_code between 100 and 599 then (status_code / 100)::text || 'xx' else 'none' end
          as status_class,
        $1 * sample_weight as w,
        coalesce(status_code >= 500, error_message is not null and metadata ->> 'no_response' is distinct from 'client_closed') as failed,
        response_time_ms as ms, width_bucket(response_time_ms, @schema@.analytics_latency_bounds_ms()) as b
      from changed_rows
    ) r
    group by 1, 2, 3, 4, 5
  ),
  added as (
    insert into @schema@.analytics_api_hourly as h
      (hour, service_name, endpoint, method, status_class, requests, errors, response_time_ms_sum, latency_buckets)
    select hour, service_name, endpoint, method, status_class, requests, errors, response_time_ms_sum, latency_buckets
    from g
    -- Keys in one order, as the triggers take them: no deadlock between writers of the rollup.
    order by 1, 2, 3, 4, 5
    on conflict (hour, service_name, endpoint, method, status_class) do update set
      requests = h.requests + excluded.requests,
      errors = h.errors + excluded.errors,
      response_time_ms_sum = h.response_time_ms_sum + excluded.response_time_ms_sum,
      latency_buckets = array(
        select a + b from unnest(h.latency_buckets, excluded.latency_buckets) as t(a, b)
      )
  )
  select coalesce(sum(n), 0)::bigint from g
  $sql$ into n using s, after_id, through_id, only_ids, only_times;
  return n;
end
$body$;

-- As analytics_roll_up_api_rows, for authentication_log (analytics_roll_up_auth()'s aggregation).
create or replace function @schema@.analytics_roll_up_auth_rows(
  s integer, after_id bigint, through_id bigint, only_ids bigint[] default null, only_times timestamptz[] default null
) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  n bigint;
begin
  execute $sql$
  with changed_rows as (
    select * from @schema@.authentication_log
    where id > $2 and id <= $3 and ($4::bigint[] is null or (id = any($4) and time = any($5)))
  ),
  g as (
    select date_trunc('hour', time, 'UTC') as hour, service_name, event_type, success, count(*) as n,
      sum($1) as events
    from changed_rows
    group by 1, 2, 3, 4
  ),
  added as (
    insert into @schema@.analytics_auth_hourly as h (hour, service_name, event_type, success, events)
    select hour, service_name, event_type, success, events
    from g
    order by 1, 2, 3, 4
    on conflict (hour, service_name, event_type, success) do update set events = h.events + excluded.events
  )
  select coalesce(sum(n), 0)::bigint from g
  $sql$ into n using s, after_id, through_id, only_ids, only_times;
  return n;
end
$body$;

-- As analytics_roll_up_api_rows, for external_api_call_log (analytics_roll_up_external()'s aggregation).
create or replace function @schema@.analytics_roll_up_external_rows(
  s integer, after_id bigint, through_id bigint, only_ids bigint[] default null, only_times timestamptz[] default null
) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  n bigint;
begin
  execute $sql$
  with changed_rows as (
    select * from @schema@.external_api_call_log
    where id > $2 and id <= $3 and ($4::bigint[] is null or (id = any($4) and time = any($5)))
  ),
  g as (
    select date_trunc('hour', time, 'UTC') as hour, service_name, service,
      coalesce(metadata ->> 'response_model', metadata ->> 'request_model') as model, count(*) as n,
      sum($1) as calls,
      coalesce(sum($1) filter (where coalesce(status_code >= 400, true) or error_message is not null), 0) as errors,
      coalesce(sum($1 * cost_estimate), 0) as cost_usd,
      coalesce(sum(case when jsonb_typeof(metadata -> 'input_tokens') = 'number'
        then $1 * (metadata ->> 'input_tokens')::numeric end), 0) as input_tokens,
      coalesce(sum(case when jsonb_typeof(metadata -> 'output_tokens') = 'number'
        then $1 * (metadata ->> 'output_tokens')::numeric end), 0) as output_tokens,
      coalesce(sum($1 * response_time_ms), 0) as response_time_ms_sum
    from changed_rows
    group by 1, 2, 3, 4
  ),
  added as (
    insert into @schema@.analytics_external_hourly as h
      (hour, service_name, service, model, calls, errors, cost_usd, input_tokens, output_tokens, response_time_ms_sum)
    select hour, service_name, service, model, calls, errors, cost_usd, input_tokens, output_tokens, response_time_ms_sum
    from g
    order by 1, 2, 3, 4
    on conflict (hour, service_name, service, model) do update set
      calls = h.calls + excluded.calls,
      errors = h.errors + excluded.errors,
      cost_usd = h.cost_usd + excluded.cost_usd,
      input_tokens = h.input_tokens + excluded.input_tokens,
      output_tokens = h.output_tokens + excluded.output_tokens,
      response_time_ms_sum = h.response_time_ms_sum + excluded.response_time_ms_sum
  )
  select coalesce(sum(n), 0)::bigint from g
  $sql$ into n using s, after_id, through_id, only_ids, only_times;
  return n;
end
$body$;

-- Whether a log table is still rolled up by schema.sql's triggers (an enabled trigger that
-- calls one of the rollup trigger functions).
create or replace function @schema@.analytics_rolled_up_by_trigger(log_table text) returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp
begin atomic
  select exists (
    select from pg_catalog.pg_trigger t join pg_catalog.pg_proc p on p.oid = t.tgfoid
    where t.tgrelid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', @schema_name@, log_table))
      and not t.tgisinternal and t.tgenabled <> 'D'
      and p.pronamespace = (select n.oid from pg_catalog.pg_namespace n where n.nspname = @schema_name@)
      and p.proname in ('analytics_roll_up_api', 'analytics_roll_up_auth', 'analytics_roll_up_external')
  );
end;

-- The last id drawn from a log table's identity sequence (0: none yet). Refuses a sequence that
-- caches values: a session could then still write ids below the last one drawn.
create or replace function @schema@.analytics_rollup_last_id(log_table text) returns bigint
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  seq regclass := pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.%I', @schema_name@, log_table), 'id')::regclass;
begin
  if (select s.seqcache from pg_catalog.pg_sequence s where s.seqrelid = seq) <> 1 then
    raise exception 'the id sequence % of % caches values: incremental rollups need each id drawn in order', seq, log_table
      using hint = pg_catalog.format('Run ALTER SEQUENCE %s CACHE 1.', seq);
  end if;
  return coalesce(pg_catalog.pg_sequence_last_value(seq), 0);
end
$body$;

-- Rolls up the rows written since the last call, per log table: locks its watermark (one caller
-- at a time; forget and reprice take the same lock), reads the last id drawn, waits for the
-- writers still in flight (the sessions that drew those ids hold ROW EXCLUSIVE on the table
-- until they end: an EXCLUSIVE lock is granted once they have, and given back at once), then
-- adds the rows above the watermark up to that id and moves the watermark there. A writer that
-- holds its transaction open longer than wait_for_writers (null: as long as it takes) leaves that
-- table for the next call, with a warning and rows null; new writers queue behind the lock
-- meanwhile, so keep the wait short. Returns the rows rolled up per log table.
create or replace function @schema@.analytics_roll_up(wait_for_writers interval default interval '2 seconds')
returns table (log_table text, rows bigint)
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  t text;
  done bigint;
  window_end bigint;
  waited boolean;
begin
  if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'analytics_roll_up() runs in a READ COMMITTED transaction only (this one is %): a snapshot older than its wait for writers would miss their rows',
      pg_catalog.current_setting('transaction_isolation');
  end if;
  foreach t in array array['api_access_log', 'authentication_log', 'external_api_call_log'] loop
    select p.rolled_up_to into done from @schema@.analytics_rollup_progress p where p.log_table = t for update;
    if not found then
      raise exception 'no watermark for % in analytics_rollup_progress: apply migrations/citus/rollups.sql', t;
    end if;
    window_end := @schema@.analytics_rollup_last_id(t);
    log_table := t;
    rows := 0;
    if window_end > done and @schema@.analytics_rolled_up_by_trigger(t) then
      -- Its triggers have added these rows (or will, as their writers commit).
      update @schema@.analytics_rollup_progress p set rolled_up_to = window_end where p.log_table = t;
    elsif window_end > done then
      waited := true;
      begin
        perform pg_catalog.set_config('lock_timeout',
          coalesce(greatest(1, ceil(extract(epoch from wait_for_writers) * 1000))::bigint::text || 'ms', '0'), true);
        execute pg_catalog.format('lock table only %I.%I in exclusive mode', @schema_name@, t);
        -- Undoes this block, giving the lock (and the lock_timeout) back.
        raise exception using errcode = 'PGAW0';
      exception
        when sqlstate 'PGAW0' then null;
        when lock_not_available then waited := false;
      end;
      if waited then
        rows := case t
          when 'api_access_log' then @schema@.analytics_roll_up_api_rows(1, done, window_end)
          when 'authentication_log' then @schema@.analytics_roll_up_auth_rows(1, done, window_end)
          else @schema@.analytics_roll_up_external_rows(1, done, window_end)
        end;
        update @schema@.analytics_rollup_progress p set rolled_up_to = window_end where p.log_table = t;
      else
        raise warning 'analytics_roll_up: a writer of % held its transaction open longer than %; its rows are left for the next call', t, wait_for_writers;
        rows := null;
      end if;
    end if;
    return next;
  end loop;
end
$body$;

-- Sets every watermark to the last id drawn: for log tables whose rows are rolled up already (a
-- database whose triggers kept the rollups until now). Call it in the transaction that drops
-- the triggers, after dropping them: DROP TRIGGER waits for the writers in flight and holds
-- back new ones until that transaction ends, so no row is counted twice or missed.
create or replace function @schema@.analytics_rollup_start_at_current()
returns table (log_table text, rolled_up_to bigint)
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  t text;
begin
  foreach t in array array['api_access_log', 'authentication_log', 'external_api_call_log'] loop
    log_table := t;
    rolled_up_to := @schema@.analytics_rollup_last_id(t);
    insert into @schema@.analytics_rollup_progress as p (log_table, rolled_up_to)
    values (t, analytics_rollup_start_at_current.rolled_up_to)
    on conflict on constraint analytics_rollup_progress_pkey
      do update set rolled_up_to = excluded.rolled_up_to;
    return next;
  end loop;
end
$body$;

-- For a statement that deletes or updates rows of a log table that has no rollup triggers: takes
-- the rows of ids (at times: their primary key) that are rolled up already out of the rollups
-- (s = -1, before the statement) or puts them back with their new values (s = +1, after an
-- update). Locks the table's watermark until the transaction ends; lock it before choosing the
-- rows (forget and reprice lock all three, in log_table order, first): a row rolled up after they
-- were chosen would be missed. Returns the rows taken out or put back.
create or replace function @schema@.analytics_rollup_adjust(
  log_table text, s integer, ids bigint[], times timestamptz[]
) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $body$
declare
  done bigint;
begin
  if s not in (-1, 1) then
    raise exception 'analytics_rollup_adjust: s is -1 (take out) or 1 (put back), not %', s;
  end if;
  select p.rolled_up_to into done from @schema@.analytics_rollup_progress p
  where p.log_table = analytics_rollup_adjust.log_table for update;
  if not found then
    raise exception 'no watermark for % in analytics_rollup_progress: apply migrations/citus/rollups.sql', log_table;
  end if;
  if @schema@.analytics_rolled_up_by_trigger(log_table) or coalesce(pg_catalog.cardinality(ids), 0) = 0 then
    return 0;
  end if;
  return case log_table
    when 'api_access_log' then @schema@.analytics_roll_up_api_rows(s, '-9223372036854775808', done, ids, times)
    when 'authentication_log' then @schema@.analytics_roll_up_auth_rows(s, '-9223372036854775808', done, ids, times)
    when 'external_api_call_log' then @schema@.analytics_roll_up_external_rows(s, '-9223372036854775808', done, ids, times)
  end;
end
$body$;

revoke all on function @schema@.analytics_roll_up_api_rows(integer, bigint, bigint, bigint[], timestamptz[]),
  @schema@.analytics_roll_up_auth_rows(integer, bigint, bigint, bigint[], timestamptz[]),
  @schema@.analytics_roll_up_external_rows(integer, bigint, bigint, bigint[], timestamptz[]),
  @schema@.analytics_rolled_up_by_trigger(text),
  @schema@.analytics_rollup_last_id(text),
  @schema@.analytics_roll_up(interval),
  @schema@.analytics_rollup_start_at_current(),
  @schema@.analytics_rollup_adjust(text, integer, bigint[], timestamptz[]) from public;
$ddl$, '@schema@', pg_catalog.quote_ident(pg_catalog.current_schema())),
    '@schema_name@', pg_catalog.quote_literal(pg_catalog.current_schema()));
end
$do$;

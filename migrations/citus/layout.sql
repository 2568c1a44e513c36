-- The distributed layout on a Citus coordinator (docs/citus.md). `otel-pg-analytics migrate`
-- applies it after schema.sql and the migrations when the database is a Citus coordinator (or
-- when told `--layout distributed`), in the same transaction, with the search_path pinned to
-- the tables' schema; every run applies it again, and a second run changes nothing.
--
-- The three log tables are hash-distributed by trace_id and co-located with each other: random
-- 128-bit ids spread rows evenly, a request's API row, its external calls and its auth events
-- land on one shard, and a lookup by trace prunes to it. Every row has a trace id (a span
-- without a valid one is stored under the invalid id, 32 zeros), so the column is NOT NULL.
-- Citus wants the distribution column in every key: primary key (time, id, trace_id), unique
-- (span_id, time, trace_id); the exporter's ON CONFLICT DO NOTHING (no target) still skips a
-- replayed span, which has the same trace id. Citus refuses triggers on distributed tables, so
-- the rollup triggers go; analytics_roll_up() (migrations/citus/rollups.sql) keeps the rollups
-- from a watermark on id, whose scan a BRIN index on id keeps short. Everything else (rollups,
-- pipeline stats, the schema version) stays a local table on the coordinator.
--
-- An upgraded database keeps its rows: create_distributed_table copies them into the shards.
-- The daily partitions stay as they are: distributing the parent distributes every partition,
-- and one attached later (analytics_ensure_partitions) is distributed as it is attached.

do $do$
declare
  schema_name constant text := pg_catalog.current_schema();
  anchor constant text := pg_catalog.format('%I.%I', schema_name, 'api_access_log');
  log_table text;
  prefix text;
  rel regclass;
  dist record;
  key record;
  suffix text;
begin
  if not exists (select from pg_catalog.pg_extension where extname = 'citus') then
    raise exception 'the distributed layout needs Citus: schema % is in a database without the citus extension',
      pg_catalog.quote_ident(schema_name);
  end if;
  foreach log_table in array array['api_access_log', 'authentication_log', 'external_api_call_log'] loop
    rel := pg_catalog.format('%I.%I', schema_name, log_table)::regclass;
    -- The index analytics_roll_up() scans ids through; on a distributed table, created on every shard.
    execute pg_catalog.format('create index if not exists %I on %s using brin (id)', log_table || '_id_brin_idx', rel);

    select pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) as column_name, p.partmethod
      into dist from pg_catalog.pg_dist_partition p where p.logicalrelid = rel;
    if found then
      if dist.partmethod <> 'h' or dist.column_name is distinct from 'trace_id' then
        raise exception '% is already distributed, but not hash-distributed by trace_id (method %, column %)',
          rel, dist.partmethod, coalesce(dist.column_name, 'none')
          using hint = 'undistribute it (select undistribute_table(...)) and migrate again';
      end if;
      continue;
    end if;

    -- Citus refuses to distribute a table with triggers: the rollup triggers of schema.sql go.
    prefix := case log_table when 'api_access_log' then 'analytics_api_hourly_rollup'
      when 'authentication_log' then 'analytics_auth_hourly_rollup' else 'analytics_external_hourly_rollup' end;
    foreach suffix in array array['', '_deleted', '_updated_new', '_updated_old'] loop
      execute pg_catalog.format('drop trigger if exists %I on %s', prefix || suffix, rel);
    end loop;

    -- The distribution column may not be null (nor change: rows keep the trace id they get here).
    execute pg_catalog.format('update %s set trace_id = %L where trace_id is null', rel, '00000000000000000000000000000000');
    execute pg_catalog.format('alter table %s alter column trace_id set not null', rel);

    -- Keys with the distribution column, on the parent: its partitions follow.
    for key in
      select c.conname, c.contype from pg_catalog.pg_constraint c
      where c.conrelid = rel and c.contype in ('p', 'u')
        and c.conkey::int2[] in (
          array(select a.attnum from pg_catalog.pg_attribute a, unnest(array['time', 'id']) with ordinality n(name, i)
                where a.attrelid = rel and a.attname = n.name order by n.i)::int2[],
          array(select a.attnum from pg_catalog.pg_attribute a, unnest(array['span_id', 'time']) with ordinality n(name, i)
                where a.attrelid = rel and a.attname = n.name order by n.i)::int2[])
    loop
      execute pg_catalog.format('alter table %s drop constraint %I', rel, key.conname);
    end loop;
    if not exists (select from pg_catalog.pg_constraint where conrelid = rel and contype = 'p') then
      execute pg_catalog.format('alter table %s add constraint %I primary key (time, id, trace_id)', rel, log_table || '_pkey');
    end if;
    if pg_catalog.to_regclass(pg_catalog.format('%I.%I', schema_name, log_table || '_span_id_time_trace_id_key')) is null then
      execute pg_catalog.format('alter table %s add constraint %I unique (span_id, time, trace_id)',
        rel, log_table || '_span_id_time_trace_id_key');
    end if;

    -- api_access_log anchors a colocation group of the three's own (not the cluster's default
    -- group for text columns, which unrelated tables may share and move with).
    perform pg_catalog.create_distributed_table(rel, 'trace_id',
      colocate_with => case when log_table = 'api_access_log' then 'none' else anchor end);
    -- Distributing copies the rows into the shards and leaves them, unseen, in the coordinator's
    -- own files: personal data there would escape `forget`, and a DEFAULT partition's stale rows
    -- would fail the check of a later ATTACH PARTITION. The coordinator keeps none.
    perform pg_catalog.truncate_local_data_after_distributing_table(rel);
  end loop;
end
$do$;

-- analytics_ensure_partitions as schema.sql has it, but each new day's table is distributed
-- (co-located with its parent) while still empty, before rows of that day move into it from the
-- DEFAULT partition and it is attached: attaching a local table with rows would leave them in the
-- coordinator's files too. Citus runs it in sequential mode (one connection per worker): in its
-- default parallel mode the delete from the DEFAULT partition's shards and the ATTACH of the next
-- table run on different connections of one transaction, which Citus cancels as a distributed
-- deadlock. migrate sets sequential mode for its whole transaction: Citus cannot switch to it
-- after a parallel query (a multi-shard read included) in the same transaction.
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
set citus.multi_shard_modify_mode = 'sequential'
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
        execute format('create table %1$I.%2$I (like %1$I.%3$I including defaults including constraints)',
          schema_name, part, log_table);
        perform create_distributed_table(format('%I.%I', schema_name, part), 'trace_id',
          colocate_with => format('%I.%I', schema_name, log_table));
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
$ddl$, '@schema_name@', pg_catalog.quote_literal(pg_catalog.current_schema()));
end
$do$;

-- analytics_failed_login_bursts as schema.sql has it, in PL/pgSQL: Citus refuses the SQL
-- function (it plans the call as local, finding no distributed table in its FROM; PostgreSQL then
-- inlines the body, which reads one: "parameterized queries for SQL functions referencing
-- distributed tables are not supported"). A PL/pgSQL body is planned as a query of its own.
do $do$
begin
  execute pg_catalog.replace($ddl$
create or replace function @schema@.analytics_failed_login_bursts(
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
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $body$
#variable_conflict use_column
begin
  return query
  select a.ip_address,
         to_timestamp(floor(extract(epoch from a.time) / extract(epoch from burst_window))
                      * extract(epoch from burst_window)) as window_start,
         count(*) as failures,
         count(distinct a.user_id) as accounts,
         min(a.time) as first_failure,
         max(a.time) as last_failure
  from @schema@.authentication_log a
  where not a.success and a.time >= range_from and a.time < range_to
  group by 1, 2
  having count(*) >= min_failures;
end
$body$;
$ddl$, '@schema@', pg_catalog.quote_ident(pg_catalog.current_schema()));
end
$do$;

-- otel-pg-analytics migration to version 2: analytics_pipeline_stats, where each exporter
-- process records snapshots of its own health. A new table only: nothing is rewritten.
-- Must leave the database identical to a fresh schema.sql of version 2 (a test checks).

create table if not exists analytics_pipeline_stats (
  id bigint generated always as identity,
  time timestamptz not null,
  service_name text,
  instance_id text not null,
  host text,
  pid integer,
  started_at timestamptz,
  final boolean not null default false,
  queued_rows bigint not null default 0,
  spool_bytes bigint not null default 0,
  exported_rows bigint not null default 0,
  retries bigint not null default 0,
  spooled_rows bigint not null default 0,
  replayed_rows bigint not null default 0,
  dropped_rows jsonb not null default '{}',
  rejected_rows jsonb not null default '{}',
  last_error text,
  primary key (time, id)
);

create index if not exists analytics_pipeline_stats_instance_time_idx
  on analytics_pipeline_stats (instance_id, time);

insert into analytics_schema_version (version, description)
values (2, 'analytics_pipeline_stats')
on conflict (version) do nothing;

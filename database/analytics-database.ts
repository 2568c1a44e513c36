import type { ColumnType } from 'kysely';

/**
 * Row types mirroring schema.sql (a test compares them with the live catalog). Values are
 * as sent to PostgreSQL: timestamps as ISO strings with microseconds, `jsonb` as JSON text,
 * `inet` as text already validated.
 */

/** The three log tables. */
export type TableName = 'api_access_log' | 'authentication_log' | 'external_api_call_log';

interface CommonRow {
  time: string;
  trace_id: string | null;
  span_id: string;
  service_name: string | null;
  metadata: string | null;
}

export interface ApiAccessLogRow extends CommonRow {
  user_id: string | null;
  endpoint: string | null;
  path: string | null;
  method: string | null;
  status_code: number | null;
  response_time_ms: number | null;
  ip_address: string | null;
  peer_address: string | null;
  user_agent: string | null;
  request_size: number | null;
  response_size: number | null;
  query_params: string | null;
  error_message: string | null;
  sample_weight: number;
}

export interface AuthenticationLogRow extends CommonRow {
  user_id: string | null;
  event_type: string;
  ip_address: string | null;
  user_agent: string | null;
  success: boolean;
  error_message: string | null;
}

export interface ExternalApiCallLogRow extends CommonRow {
  user_id: string | null;
  service: string | null;
  endpoint: string | null;
  method: string | null;
  status_code: number | null;
  response_time_ms: number | null;
  cost_estimate: number | null;
  request_size: number | null;
  response_size: number | null;
  error_message: string | null;
}

/** A row together with the table it belongs to. */
export type TableRow =
  | { table: 'api_access_log'; row: ApiAccessLogRow }
  | { table: 'authentication_log'; row: AuthenticationLogRow }
  | { table: 'external_api_call_log'; row: ExternalApiCallLogRow };

/** A column as the batch writer sends it: one array per column, cast to `type`. */
export interface ColumnSpec {
  name: string;
  /** Element type of the array parameter. */
  type: 'timestamptz' | 'text' | 'integer' | 'bigint' | 'double precision' | 'numeric' | 'inet' | 'boolean';
  /** Sent as text and cast per row (binding `jsonb[]` was 3–25× slower). */
  jsonb?: boolean;
}

const common: ColumnSpec[] = [
  { name: 'time', type: 'timestamptz' },
  { name: 'trace_id', type: 'text' },
  { name: 'span_id', type: 'text' },
  { name: 'service_name', type: 'text' },
];

/** The columns the exporter writes, per table, in schema order. */
export const TABLE_COLUMNS: Readonly<Record<TableName, readonly ColumnSpec[]>> = Object.freeze({
  api_access_log: [
    ...common,
    { name: 'user_id', type: 'text' },
    { name: 'endpoint', type: 'text' },
    { name: 'path', type: 'text' },
    { name: 'method', type: 'text' },
    { name: 'status_code', type: 'integer' },
    { name: 'response_time_ms', type: 'double precision' },
    { name: 'ip_address', type: 'inet' },
    { name: 'peer_address', type: 'inet' },
    { name: 'user_agent', type: 'text' },
    { name: 'request_size', type: 'bigint' },
    { name: 'response_size', type: 'bigint' },
    { name: 'query_params', type: 'text', jsonb: true },
    { name: 'error_message', type: 'text' },
    { name: 'sample_weight', type: 'double precision' },
    { name: 'metadata', type: 'text', jsonb: true },
  ],
  authentication_log: [
    ...common,
    { name: 'user_id', type: 'text' },
    { name: 'event_type', type: 'text' },
    { name: 'ip_address', type: 'inet' },
    { name: 'user_agent', type: 'text' },
    { name: 'success', type: 'boolean' },
    { name: 'error_message', type: 'text' },
    { name: 'metadata', type: 'text', jsonb: true },
  ],
  external_api_call_log: [
    ...common,
    { name: 'user_id', type: 'text' },
    { name: 'service', type: 'text' },
    { name: 'endpoint', type: 'text' },
    { name: 'method', type: 'text' },
    { name: 'status_code', type: 'integer' },
    { name: 'response_time_ms', type: 'double precision' },
    { name: 'cost_estimate', type: 'numeric' },
    { name: 'request_size', type: 'bigint' },
    { name: 'response_size', type: 'bigint' },
    { name: 'error_message', type: 'text' },
    { name: 'metadata', type: 'text', jsonb: true },
  ],
});

/**
 * A snapshot of one exporter process's health in `analytics_pipeline_stats` (not a log table:
 * the log-table writer never sees it). Counters are cumulative since `started_at`; gauges are
 * as of `time`. `bigint` values go in as numbers and come back from `pg` as strings.
 */
export interface PipelineStatsRow {
  time: string;
  service_name: string | null;
  /** One per process: `<host>/<pid>/<start time ms>`. */
  instance_id: string;
  host: string | null;
  pid: number | null;
  started_at: string | null;
  /** True on the snapshot written as the exporter shuts down. */
  final: boolean;
  queued_rows: number;
  spool_bytes: number;
  exported_rows: number;
  retries: number;
  spooled_rows: number;
  replayed_rows: number;
  /** By reason, as JSON text: `{"queue_full": 3}`. */
  dropped_rows: string;
  /** By reason, as JSON text: rows PostgreSQL refused. */
  rejected_rows: string;
  last_error: string | null;
}

/** The columns of `analytics_pipeline_stats` after `id`, in schema order. */
export const PIPELINE_STATS_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  { name: 'time', type: 'timestamptz' },
  { name: 'service_name', type: 'text' },
  { name: 'instance_id', type: 'text' },
  { name: 'host', type: 'text' },
  { name: 'pid', type: 'integer' },
  { name: 'started_at', type: 'timestamptz' },
  { name: 'final', type: 'boolean' },
  { name: 'queued_rows', type: 'bigint' },
  { name: 'spool_bytes', type: 'bigint' },
  { name: 'exported_rows', type: 'bigint' },
  { name: 'retries', type: 'bigint' },
  { name: 'spooled_rows', type: 'bigint' },
  { name: 'replayed_rows', type: 'bigint' },
  { name: 'dropped_rows', type: 'text', jsonb: true },
  { name: 'rejected_rows', type: 'text', jsonb: true },
  { name: 'last_error', type: 'text' },
] satisfies ColumnSpec[]);

/** `timestamptz`: written as ISO text (or a Date), read back by `pg` as a Date. */
type Timestamp = ColumnType<Date, string | Date, string | Date>;
/** `jsonb`: written as JSON text, read back by `pg` parsed. */
type Json = ColumnType<unknown, string | null, string | null>;
/** `bigint` and `numeric`: written as numbers, read back by `pg` as strings (exact). */
type Exact<Null extends null = never> = ColumnType<
  string | Null,
  number | string | Null,
  number | string | Null
>;
/** `id bigint generated always as identity`: the server assigns it. */
type Id = ColumnType<string, never, never>;

/** Kysely's view of a log table: the row as the writer sends it, the columns as `pg` reads them. */
type Stored<Row extends CommonRow, Overrides> = Omit<Row, 'time' | 'metadata' | keyof Overrides> &
  Overrides & { id: Id; time: Timestamp; metadata: Json };

/**
 * The tables for Kysely, so they can be queried with types. Select types are what `pg`
 * returns (timestamps as Dates, `bigint` and `numeric` as strings, `jsonb` parsed); insert
 * types are what the exporter sends.
 *
 * ```ts
 * const db = new Kysely<AnalyticsDatabase>({ dialect: new PostgresDialect({ pool }) });
 * const slow = await db.selectFrom('api_access_log').select(['endpoint', 'time'])
 *   .where('response_time_ms', '>', 1000).execute();
 * ```
 */
export interface AnalyticsDatabase {
  api_access_log: Stored<
    ApiAccessLogRow,
    { request_size: Exact<null>; response_size: Exact<null>; query_params: Json }
  >;
  authentication_log: Stored<AuthenticationLogRow, object>;
  external_api_call_log: Stored<
    ExternalApiCallLogRow,
    { cost_estimate: Exact<null>; request_size: Exact<null>; response_size: Exact<null> }
  >;
  analytics_pipeline_stats: Omit<
    PipelineStatsRow,
    | 'time'
    | 'started_at'
    | 'queued_rows'
    | 'spool_bytes'
    | 'exported_rows'
    | 'retries'
    | 'spooled_rows'
    | 'replayed_rows'
    | 'dropped_rows'
    | 'rejected_rows'
  > & {
    id: Id;
    time: Timestamp;
    started_at: ColumnType<Date | null, string | Date | null, string | Date | null>;
    queued_rows: Exact;
    spool_bytes: Exact;
    exported_rows: Exact;
    retries: Exact;
    spooled_rows: Exact;
    replayed_rows: Exact;
    dropped_rows: Json;
    rejected_rows: Json;
  };
  analytics_schema_version: {
    version: number;
    description: string;
    applied_at: ColumnType<Date, Date | string | undefined, Date | string>;
  };
}

export { PostgresSpanExporter, type ExporterStats } from './postgres-span-exporter.js';
export {
  DEFAULT_CONNECTION_TIMEOUT_MILLIS,
  DEFAULT_EXPORTER_SHUTDOWN_TIMEOUT_MILLIS,
  DEFAULT_INITIAL_RETRY_DELAY_MILLIS,
  DEFAULT_MAX_BATCH_ROWS,
  DEFAULT_MAX_POOL_SIZE,
  DEFAULT_MAX_QUEUE_ROWS,
  DEFAULT_MAX_RETRY_DELAY_MILLIS,
  DEFAULT_MAX_SPOOL_BYTES,
  DEFAULT_RETRY_DEADLINE_MILLIS,
  DEFAULT_STATS_INTERVAL_MILLIS,
  DEFAULT_STATEMENT_TIMEOUT_MILLIS,
  type PostgresPoolLike,
  type PostgresSpanExporterConfig,
} from './postgres-span-exporter-config.js';
export { spanToRow } from './span-to-row.js';
export { writeBatch } from './write-batch.js';
export { migrate, readSchemaSql, SCHEMA_VERSION, type MigrationResult } from '../admin/migrate.js';
export {
  DEFAULT_PARTITION_DAYS_AHEAD,
  ensurePartitions,
  parseRetention,
  prunePartitions,
} from '../admin/partitions.js';
export { doctor, type DoctorOptions } from '../doctor/doctor.js';
export {
  DEFAULT_READER_ROLE,
  DEFAULT_WRITER_ROLE,
  migrateRoles,
  type MigrateRolesOptions,
  type MigrateRolesResult,
  type RoleMigration,
} from '../admin/migrate-roles.js';
export {
  DEFAULT_USER_METADATA_KEYS,
  forget,
  type ForgetOptions,
  type ForgetResult,
} from '../admin/forget.js';
export {
  chooseBucketSeconds,
  DEFAULT_REPORT_STATEMENT_TIMEOUT_MILLIS,
  loadReportData,
  type LoadReportOptions,
  type ReportBucket,
  type ReportData,
  type ReportRange,
  type ReportTable,
} from '../report/report-data.js';
export { renderReport } from '../report/render-report.js';
export {
  DEFAULT_REPORT_LAST,
  resolveReportRange,
  type ReportRangeOptions,
} from '../report/resolve-report-range.js';
export type { DoctorCheck, DoctorCheckName, DoctorStatus } from '../doctor/doctor-check.js';
export type {
  AnalyticsDatabase,
  ApiAccessLogRow,
  AuthenticationLogRow,
  ExternalApiCallLogRow,
  PipelineStatsRow,
  TableName,
  TableRow,
} from '../database/analytics-database.js';

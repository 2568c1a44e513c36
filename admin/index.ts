/**
 * `otel-pg-analytics/admin`: the CLI's database commands for programmatic use (a deploy
 * script that migrates, a job that prunes and rolls up): schema and roles, partitions and
 * roll-ups, forgetting a user, the doctor and the HTML report. Each takes a connection string
 * and opens its own connection.
 * Every name here is a promise to users: test/unit/public-api.test.ts pins the list.
 */
export { migrate, type MigrateOptions, type MigrationResult } from './migrate.js';
export {
  migrateRoles,
  type MigrateRolesOptions,
  type MigrateRolesResult,
  type RoleMigration,
} from './migrate-roles.js';
export { ensurePartitions, prunePartitions } from './partitions.js';
export { rollUp, type RolledUp } from './roll-up.js';
export { forget, type ForgetOptions, type ForgetResult } from './forget.js';
export { doctor, type DoctorOptions } from '../doctor/doctor.js';
export type { DoctorCheck, DoctorCheckName, DoctorStatus } from '../doctor/doctor-check.js';
export {
  loadReportData,
  type LoadReportOptions,
  type ReportBucket,
  type ReportData,
  type ReportRange,
  type ReportTable,
} from '../report/report-data.js';
export { renderReport } from '../report/render-report.js';
export { resolveReportRange, type ReportRangeOptions } from '../report/resolve-report-range.js';

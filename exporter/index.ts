/**
 * `otel-pg-analytics/exporter`: the Postgres span exporter, its options, and the row types of
 * the tables it writes (`AnalyticsDatabase`, for typed queries with Kysely). Every name here is
 * a promise to users: test/unit/public-api.test.ts pins the list.
 */
export { PostgresSpanExporter, type ExporterStats } from './postgres-span-exporter.js';
export type { PostgresPoolLike, PostgresSpanExporterConfig } from './postgres-span-exporter-config.js';
export type {
  AnalyticsDatabase,
  ApiAccessLogRow,
  AuthenticationLogRow,
  ExternalApiCallLogRow,
  PipelineStatsRow,
} from '../database/analytics-database.js';

import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { maskUrlPassword } from '../src/privacy/redactor.js';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { ConnectionFailedError } from '../database/connection-failed-error.js';
import { createKysely } from '../database/create-kysely.js';
import { withClient } from '../database/with-client.js';
import { connectionCheck, connectionFailedCheck } from './connection-check.js';
import type { DoctorCheck } from './doctor-check.js';
import { layoutCheck } from './layout-check.js';
import { pipelineCheck } from './pipeline-check.js';
import { privilegesCheck } from './privileges-check.js';
import { roleCheck } from './role-check.js';
import { rollupsCheck } from './rollups-check.js';
import { runCheck } from './run-check.js';
import { schemaVersionCheck } from './schema-version-check.js';
import { spoolCheck } from './spool-check.js';
import { tablesCheck } from './tables-check.js';

/** Options of {@link doctor}. */
export interface DoctorOptions {
  /** A spool directory to look for pending segments in; without it, no spool check. */
  spoolDir?: string;
  /** How long to wait for the database to accept the connection. Defaults to 5000. */
  connectionTimeoutMillis?: number;
  /** Limit of each check query. Defaults to 10000. */
  statementTimeoutMillis?: number;
  /** Growth of dropped and refused rows is judged over this window. Defaults to 15 minutes. */
  pipelineWindowMillis?: number;
  /** A process silent for longer than this has stopped reporting. Defaults to 5 minutes. */
  staleAfterMillis?: number;
  /** Processes that reported within this long are judged. Defaults to 1 hour. */
  lookbackMillis?: number;
}

const DEFAULT_CONNECTION_TIMEOUT_MILLIS = 5000;
const DEFAULT_STATEMENT_TIMEOUT_MILLIS = 10_000;
const DEFAULT_PIPELINE_WINDOW_MILLIS = 15 * 60_000;
const DEFAULT_STALE_AFTER_MILLIS = 5 * 60_000;
const DEFAULT_LOOKBACK_MILLIS = 60 * 60_000;

/**
 * Checks what the exporter needs and says what to fix: the connection (server version, round
 * trip; or why it failed), the schema version, the tables and their columns, the layout (single
 * PostgreSQL, or distributed on Citus) and, where `analytics_roll_up()` keeps the hourly
 * rollups, the rows still waiting for it, INSERT privilege
 * of the connecting role on each table, whether that role is more than the exporter needs (a
 * superuser, the tables' owner, or one that may change rows), recent health of every exporter process from
 * `analytics_pipeline_stats`, and segments waiting in a spool directory. Never throws for
 * what it finds; a check that cannot run is reported as such. Messages never contain the
 * connection string's password.
 *
 * Run it with the role the app uses to check its privileges; that role usually may not read
 * `analytics_pipeline_stats`, so the pipeline check then asks for the reader role (a warning,
 * not a failure).
 *
 * ```ts
 * const report = await doctor(process.env.OTEL_ANALYTICS_DATABASE_URL!);
 * const healthy = report.every((check) => check.status !== 'fail');
 * ```
 */
export async function doctor(connectionString: string, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const where = maskUrlPassword(connectionString);
  const statementTimeout = options.statementTimeoutMillis ?? DEFAULT_STATEMENT_TIMEOUT_MILLIS;
  const started = performance.now();
  try {
    await withClient(
      {
        connectionString,
        applicationName: 'otel-pg-analytics doctor',
        connectionTimeoutMillis: options.connectionTimeoutMillis ?? DEFAULT_CONNECTION_TIMEOUT_MILLIS,
        // The client-side limit catches a server that stops answering altogether.
        queryTimeoutMillis: statementTimeout + 5000,
        explainConnectionErrors: true,
      },
      async (client) => {
        const connectMillis = performance.now() - started;
        // Each statement carries the server-side limit for its own transaction: nothing is set
        // for the session, which a pooler in transaction mode would pass on to other clients.
        const db = createKysely({ client, statementTimeoutMillis: statementTimeout });
        checks.push(...(await databaseChecks(db, where, connectMillis, options)));
      },
    );
  } catch (error) {
    if (!(error instanceof ConnectionFailedError)) throw error;
    checks.push(connectionFailedCheck(where, error.failure));
  }
  if (options.spoolDir !== undefined) checks.push(await spoolCheck(options.spoolDir));
  return checks;
}

/** The checks over a connection, each told what the ones before it found. */
async function databaseChecks(
  db: Kysely<AnalyticsDatabase>,
  where: string,
  connectMillis: number,
  options: DoctorOptions,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const session = await runCheck(checks, 'connection', () => connectionCheck(db, where, connectMillis));
  if (session === undefined) return checks;
  const version = await runCheck(checks, 'schema-version', () => schemaVersionCheck(db, session));
  const tables = await runCheck(checks, 'tables', () => tablesCheck(db, version));
  if (tables !== undefined && tables.present.length > 0) {
    const layout = await runCheck(checks, 'layout', () => layoutCheck(db));
    if (layout !== undefined && !layout.onWorker && layout.withoutTriggers.length > 0) {
      await runCheck(checks, 'rollups', () => rollupsCheck(db, session, layout));
    }
    await runCheck(checks, 'privileges', () => privilegesCheck(db, session, tables.present));
  }
  await runCheck(checks, 'role', () => roleCheck(db, session));
  if (tables?.intact.includes('analytics_pipeline_stats')) {
    await runCheck(checks, 'pipeline', () =>
      pipelineCheck(db, session, {
        windowMillis: options.pipelineWindowMillis ?? DEFAULT_PIPELINE_WINDOW_MILLIS,
        staleAfterMillis: options.staleAfterMillis ?? DEFAULT_STALE_AFTER_MILLIS,
        lookbackMillis: options.lookbackMillis ?? DEFAULT_LOOKBACK_MILLIS,
      }),
    );
  }
  return checks;
}

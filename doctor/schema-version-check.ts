import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { SCHEMA_VERSION } from '../admin/migrate.js';
import { DEFAULT_READER_ROLE } from '../admin/migrate-roles.js';
import type { DoctorSession } from './connection-check.js';
import type { DoctorCheck } from './doctor-check.js';
import { MIGRATE_FIX } from './migrate-fix.js';
import type { CheckOutcome } from './run-check.js';

/**
 * The recorded schema version against the one this package needs; the version, for the
 * tables check (unknown when the role may not read it).
 */
export async function schemaVersionCheck(
  db: Kysely<AnalyticsDatabase>,
  session: DoctorSession,
): Promise<CheckOutcome<number>> {
  const { rows } = await sql<{ present: boolean; readable: boolean | null }>`
    select to_regclass('analytics_schema_version') is not null as present,
           has_table_privilege(to_regclass('analytics_schema_version'), 'SELECT') as readable`.execute(db);
  const { present, readable } = rows[0]!;
  if (!present) {
    return {
      checks: [
        {
          check: 'schema-version',
          status: 'fail',
          message: 'no schema: analytics_schema_version does not exist',
          fix: MIGRATE_FIX,
        },
      ],
      value: 0,
    };
  }
  if (!readable) {
    return {
      checks: [
        {
          check: 'schema-version',
          status: 'warn',
          message: `role ${session.role} may not read analytics_schema_version, so the version is unknown (the table check below still compares the columns)`,
          fix: `run doctor as the reader role (${DEFAULT_READER_ROLE}) or the owner, or GRANT SELECT ON analytics_schema_version TO ${session.quotedRole}`,
        },
      ],
    };
  }
  const latest = await db
    .selectFrom('analytics_schema_version')
    .select(['version', 'applied_at'])
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  const version = latest?.version ?? 0;
  let check: DoctorCheck;
  if (version < SCHEMA_VERSION) {
    check = {
      check: 'schema-version',
      status: 'fail',
      message:
        latest === undefined
          ? 'no schema version recorded (analytics_schema_version is empty)'
          : `schema version ${version}; this package needs ${SCHEMA_VERSION}`,
      fix: MIGRATE_FIX,
    };
  } else if (version > SCHEMA_VERSION) {
    check = {
      check: 'schema-version',
      status: 'warn',
      message: `schema version ${version} is newer than this package knows (${SCHEMA_VERSION})`,
      fix: 'upgrade otel-pg-analytics (in the app too)',
    };
  } else {
    check = {
      check: 'schema-version',
      status: 'ok',
      message: `schema version ${version} (applied ${latest!.applied_at.toISOString()})`,
    };
  }
  return { checks: [check], value: version };
}

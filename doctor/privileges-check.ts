import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import type { DoctorSession } from './connection-check.js';
import type { CheckOutcome } from './run-check.js';

/**
 * INSERT privilege of the connecting role on each table the exporter writes (a reader role,
 * which may read them all but write none, is told apart from an app role missing a grant).
 */
export async function privilegesCheck(
  db: Kysely<AnalyticsDatabase>,
  session: DoctorSession,
  tables: readonly string[],
): Promise<CheckOutcome> {
  // No SELECT needed: the exporter writes ON CONFLICT DO NOTHING without a conflict target.
  const { rows } = await sql<{ name: string; can_insert: boolean; can_select: boolean }>`
    select t.name, has_table_privilege(to_regclass(t.name), 'INSERT') as can_insert,
           has_table_privilege(to_regclass(t.name), 'SELECT') as can_select
    from unnest(${tables}::text[]) with ordinality as t(name, position) order by t.position`.execute(db);
  const denied = rows.filter((row) => !row.can_insert).map((row) => row.name);
  if (denied.length === rows.length && rows.every((row) => row.can_select)) {
    // The reader, which doctor is told to run as for pipeline health: it never writes, so
    // its missing INSERT says nothing about the app's role.
    return {
      checks: [
        {
          check: 'privileges',
          status: 'warn',
          message: `role ${session.role} may read but not write the tables (a reader role), so the exporter's privileges were not checked`,
          fix: "run doctor again with the app's connection string to check its INSERT privileges",
        },
      ],
    };
  }
  if (denied.length === 0) {
    return {
      checks: [
        {
          check: 'privileges',
          status: 'ok',
          message: `role ${session.role} may insert into ${tables.join(', ')}`,
        },
      ],
    };
  }
  return {
    checks: [
      {
        check: 'privileges',
        status: 'fail',
        message: `role ${session.role} may not insert into ${denied.join(', ')}, which the exporter writes`,
        fix: `as the owner: GRANT INSERT ON ${denied.join(', ')} TO ${session.quotedRole};`,
      },
    ],
  };
}

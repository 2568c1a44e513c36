import { sql, type Kysely } from 'kysely';
import { TABLE_COLUMNS, type AnalyticsDatabase } from '../database/analytics-database.js';
import { CONNECTED_ROLE_SQL, connectedRoleWarning, parseConnectedRole } from '../database/connected-role.js';
import { DEFAULT_WRITER_ROLE } from '../admin/migrate-roles.js';
import type { DoctorSession } from './connection-check.js';
import type { CheckOutcome } from './run-check.js';

/**
 * Whether the connecting role is more than the exporter needs: a superuser or the owner of
 * the log tables (warned, as the exporter itself does), or a role that may insert and also
 * update, delete or truncate rows. A least-privilege writer, or a reader, is fine.
 */
export async function roleCheck(
  db: Kysely<AnalyticsDatabase>,
  session: DoctorSession,
): Promise<CheckOutcome> {
  const found = await sql.raw(CONNECTED_ROLE_SQL).execute(db);
  const connected = parseConnectedRole(found.rows[0]);
  const warning = connected && connectedRoleWarning(connected);
  const fix = `as the owner, run \`otel-pg-analytics migrate --roles\` and connect the app as ${DEFAULT_WRITER_ROLE} (or a login role granted it)`;
  if (warning !== undefined) {
    return { checks: [{ check: 'role', status: 'warn', message: warning, fix }] };
  }
  const written = [...Object.keys(TABLE_COLUMNS), 'analytics_pipeline_stats'];
  const { rows } = await sql<{ name: string; extra: string[] }>`
    select t.name, array(select p from unnest(array['UPDATE', 'DELETE', 'TRUNCATE']) as p
                         where has_table_privilege(to_regclass(t.name), p)) as extra
    from unnest(${written}::text[]) with ordinality as t(name, position)
    where to_regclass(t.name) is not null and has_table_privilege(to_regclass(t.name), 'INSERT')
    order by t.position`.execute(db);
  const excessive = rows.filter((row) => row.extra.length > 0);
  if (excessive.length > 0) {
    return {
      checks: [
        {
          check: 'role',
          status: 'warn',
          message: `role ${session.role} may also ${excessive.map((row) => `${row.extra.join(', ')} ${row.name}`).join('; ')}, which the exporter never needs`,
          fix,
        },
      ],
    };
  }
  // A role that may create objects where the tables are could plant what the owner's own
  // statements resolve to (the rollup triggers are immune; `migrate` and upkeep run as the owner).
  const creatable = await sql<{ schema: string; everyone: boolean }>`
    select quote_ident(n.nspname) as schema, has_schema_privilege('public', n.oid, 'CREATE') as everyone
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.oid = to_regclass('api_access_log') and has_schema_privilege(n.oid, 'CREATE')`.execute(db);
  const writable = creatable.rows[0];
  if (writable !== undefined) {
    return {
      checks: [
        {
          check: 'role',
          status: 'warn',
          message: `role ${session.role} may create objects in schema ${writable.schema}${writable.everyone ? ' (as every role may)' : ''}, which the exporter never needs: it could plant functions that the owner's statements there run`,
          fix: `as the owner of the schema, run \`REVOKE CREATE ON SCHEMA ${writable.schema} FROM ${writable.everyone ? 'PUBLIC' : session.quotedRole}\``,
        },
      ],
    };
  }
  return {
    checks: [
      {
        check: 'role',
        status: 'ok',
        message: `role ${session.role} is neither a superuser nor the owner of the log tables, and may not change or delete their rows`,
      },
    ],
  };
}

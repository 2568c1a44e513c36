/** Who a connection is, as far as least privilege goes. */
export interface ConnectedRole {
  /** `current_user`. */
  role: string;
  superuser: boolean;
  /** The role owns one of the log tables, or inherits the privileges of a role that does. */
  ownsLogTables: boolean;
}

/**
 * Reads {@link ConnectedRole} from the catalog. Any role can run it, the INSERT-only writer
 * included: `pg_roles` and `pg_class` are readable by all, `to_regclass` needs only USAGE on
 * the schema and `pg_has_role` no privilege. An aggregate without GROUP BY, so exactly one row
 * comes back even when the tables do not exist. A superuser counts as owning them
 * (`pg_has_role` is true for every role), and is reported as a superuser first.
 */
export const CONNECTED_ROLE_SQL = `select current_user::text as role,
       coalesce((select rolsuper from pg_roles where rolname = current_user), false) as superuser,
       coalesce(bool_or(pg_has_role(current_user, c.relowner, 'USAGE')), false) as owns_log_tables
from pg_class c
where c.oid in (to_regclass('api_access_log'), to_regclass('authentication_log'),
                to_regclass('external_api_call_log'))`;

/** {@link ConnectedRole} from a row of {@link CONNECTED_ROLE_SQL}. */
export function parseConnectedRole(row: unknown): ConnectedRole | undefined {
  if (row === null || typeof row !== 'object') return undefined;
  const { role, superuser, owns_log_tables: owns } = row as Record<string, unknown>;
  if (typeof role !== 'string') return undefined;
  return { role, superuser: superuser === true, ownsLogTables: owns === true };
}

/**
 * What to say about a role the exporter should not write as (a superuser or the tables'
 * owner can read, change and drop everything it records), or `undefined` for a
 * least-privilege one.
 */
export function connectedRoleWarning(connected: ConnectedRole): string | undefined {
  const advice = 'use the INSERT-only role from `otel-pg-analytics migrate --roles`';
  if (connected.superuser) return `connected as superuser ${connected.role}: ${advice}`;
  if (connected.ownsLogTables)
    return `connected as ${connected.role}, the owner of the log tables: ${advice}`;
  return undefined;
}

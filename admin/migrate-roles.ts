import { sql, type Kysely } from 'kysely';
import { TABLE_COLUMNS, type AnalyticsDatabase } from '../database/analytics-database.js';
import { createKysely } from '../database/create-kysely.js';
import { formatStatement, qualifyTables } from './format-statement.js';
import { withTransaction } from '../database/with-transaction.js';

/** Name of the INSERT-only role the exporter should connect as. */
export const DEFAULT_WRITER_ROLE = 'otel_analytics_writer';

/** Name of the SELECT-only role for `doctor`, `report` and Grafana. */
export const DEFAULT_READER_ROLE = 'otel_analytics_reader';

/** Options of {@link migrateRoles}. */
export interface MigrateRolesOptions {
  /** Defaults to {@link DEFAULT_WRITER_ROLE}. */
  writerRole?: string;
  /** Defaults to {@link DEFAULT_READER_ROLE}. */
  readerRole?: string;
  /** When set, the writer can log in with it (LOGIN); without it the role is a NOLOGIN group role. */
  writerPassword?: string;
  /** When set, the reader can log in with it (LOGIN); without it the role is a NOLOGIN group role. */
  readerPassword?: string;
}

/** What {@link migrateRoles} did to one role. */
export interface RoleMigration {
  role: string;
  /** The role did not exist and was created. */
  created: boolean;
  /** The role may log in (as found, or as set by this run). */
  login: boolean;
  /** A password was set by this run. */
  passwordSet: boolean;
  /** The statements run for it, in order (a password is shown as `'***'`). */
  statements: string[];
}

/** What {@link migrateRoles} did. */
export interface MigrateRolesResult {
  /** Schema of the log tables, where the grants apply. */
  schema: string;
  /** Owner of the log tables, whose later tables and views the reader may also read. */
  owner: string;
  writer: RoleMigration;
  reader: RoleMigration;
}

/** Tables the writer inserts into: the log tables and the exporter's own health table. */
const WRITER_TABLES: readonly string[] = [...Object.keys(TABLE_COLUMNS), 'analytics_pipeline_stats'];

/** Every table of the schema; grants on them are reset first, so a rerun converges. */
const SCHEMA_TABLES: readonly string[] = [...WRITER_TABLES, 'analytics_schema_version'];

/** Longest role name PostgreSQL keeps (NAMEDATALEN - 1 bytes); a longer one would be cut silently. */
const MAX_ROLE_NAME_BYTES = 63;

const LOCK_KEY = 'otel-pg-analytics:migrate-roles';

/**
 * Creates (if missing) the two least-privilege roles and grants them what they need, on the
 * schema `migrate` created. Idempotent: running it again changes nothing (and resets the
 * privileges of both roles on the package's tables to exactly these).
 *
 * - the writer (`otel_analytics_writer`): CONNECT on the database, USAGE on the schema and
 *   INSERT on the three log tables and `analytics_pipeline_stats`; nothing else. That is all
 *   the exporter needs: identity columns take their value without any privilege on their
 *   sequence, and `ON CONFLICT DO NOTHING` without a conflict target needs no SELECT.
 * - the reader (`otel_analytics_reader`): CONNECT, USAGE, and SELECT on every table and view
 *   of the schema owned by the owner of the log tables, including those it creates later
 *   (default privileges of that owner).
 *
 * Roles are cluster-wide, so schema.sql never creates them. Without a password a role is a
 * NOLOGIN group role (grant it to the login roles the app and Grafana use); with one it may log
 * in itself. Refuses a role name that is a superuser or owns the tables (it would not be least
 * privilege). Needs the owner role (or a superuser); creating a role or setting a password also
 * needs CREATEROLE, granting to roles that exist does not (a managed service's owner often lacks
 * it). Runs in one transaction.
 */
export async function migrateRoles(
  connectionString: string,
  options: MigrateRolesOptions = {},
): Promise<MigrateRolesResult> {
  const writerRole = options.writerRole ?? DEFAULT_WRITER_ROLE;
  const readerRole = options.readerRole ?? DEFAULT_READER_ROLE;
  checkRoleName(writerRole, 'writer');
  checkRoleName(readerRole, 'reader');
  if (writerRole === readerRole) {
    throw new Error(`the writer and the reader must be different roles (both are ${writerRole})`);
  }
  return withTransaction(
    { connectionString, applicationName: 'otel-pg-analytics migrate --roles' },
    async (client) => {
      const db = createKysely({ client });
      await sql`select pg_advisory_xact_lock(hashtext(${LOCK_KEY}))`.execute(db);
      const target = await findTarget(db);

      const writer = await ensureRole(db, writerRole, options.writerPassword, target);
      await grantCommon(db, writer, target);
      const schemaTables = await qualifyTables(db, target.schema, SCHEMA_TABLES);
      await run(db, writer, 'revoke all on table %s from %I', [schemaTables, writerRole]);
      await run(db, writer, 'grant insert on table %s to %I', [
        await qualifyTables(db, target.schema, WRITER_TABLES),
        writerRole,
      ]);

      const reader = await ensureRole(db, readerRole, options.readerPassword, target);
      await grantCommon(db, reader, target);
      await run(db, reader, 'revoke all on table %s from %I', [schemaTables, readerRole]);
      const readable = await sql<{ name: string }>`
        select format('%I.%I', n.nspname, c.relname) as name
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${target.schema} and c.relowner = to_regrole(quote_ident(${target.owner}))
          and c.relkind in ('r', 'p', 'v', 'm', 'f')
        order by c.relname`.execute(db);
      await run(db, reader, 'grant select on table %s to %I', [
        readable.rows.map((row) => row.name).join(', '),
        readerRole,
      ]);
      await run(
        db,
        reader,
        'alter default privileges for role %I in schema %I grant select on tables to %I',
        [target.owner, target.schema, readerRole],
      );
      return { schema: target.schema, owner: target.owner, writer, reader };
    },
  );
}

/** Where the grants apply: the schema and owner of the log tables, in this database. */
interface GrantTarget {
  schema: string;
  owner: string;
  database: string;
  /** The role running this, which creates roles and sets passwords only with CREATEROLE. */
  currentUser: string;
  mayCreateRoles: boolean;
}

/**
 * Finds the {@link GrantTarget}, refusing a database without the tables. As a superuser, also
 * keeps this transaction's statements out of the server log.
 */
async function findTarget(db: Kysely<AnalyticsDatabase>): Promise<GrantTarget> {
  const { rows } = await sql<{
    schema: string | null;
    owner: string | null;
    database: string;
    current_user: string;
    superuser: boolean;
    createrole: boolean;
  }>`select n.nspname::text as schema, pg_get_userbyid(c.relowner)::text as owner,
            current_database()::text as database, current_user::text as current_user,
            r.rolsuper as superuser, r.rolcreaterole as createrole
     from (select to_regclass('api_access_log') as oid) t
     left join pg_class c on c.oid = t.oid
     left join pg_namespace n on n.oid = c.relnamespace
     cross join pg_roles r where r.rolname = current_user`.execute(db);
  const found = rows[0]!;
  if (found.schema === null || found.owner === null) {
    throw new Error('table api_access_log does not exist: run `otel-pg-analytics migrate` first');
  }
  if (found.superuser) {
    // A password travels inside CREATE/ALTER ROLE: keep it out of the server log, which
    // would otherwise record the statement under log_statement = 'ddl' or when it fails.
    // Only a superuser may change these settings; `set local` ends with the transaction.
    await sql`set local log_statement = 'none'`.execute(db);
    await sql`set local log_min_error_statement = 'panic'`.execute(db);
  }
  return {
    schema: found.schema,
    owner: found.owner,
    database: found.database,
    currentUser: found.current_user,
    mayCreateRoles: found.superuser || found.createrole,
  };
}

/** Rejects names PostgreSQL would cut or reserves, before anything is sent. */
function checkRoleName(name: string, what: string): void {
  if (name.length === 0) throw new Error(`the ${what} role name is empty`);
  if (Buffer.byteLength(name, 'utf8') > MAX_ROLE_NAME_BYTES) {
    throw new Error(
      `the ${what} role name is longer than ${MAX_ROLE_NAME_BYTES} bytes: ${JSON.stringify(name)}`,
    );
  }
  if (name.includes('\u0000')) throw new Error(`the ${what} role name contains a NUL byte`);
  if (/^pg_/i.test(name) || name.toLowerCase() === 'public') {
    throw new Error(
      `${JSON.stringify(name)} is a name PostgreSQL reserves: choose another ${what} role name`,
    );
  }
}

/**
 * Creates the role if missing; sets LOGIN and the password when one is given. Both need
 * CREATEROLE, which the owner on a managed service may lack: the platform creates roles in its
 * own console, and an existing role without a password needs neither, only grants.
 */
async function ensureRole(
  db: Kysely<AnalyticsDatabase>,
  role: string,
  password: string | undefined,
  target: GrantTarget,
): Promise<RoleMigration> {
  const { owner } = target;
  const { rows } = await sql<{ superuser: boolean; login: boolean; owns: boolean }>`
    select rolsuper as superuser, rolcanlogin as login,
           pg_has_role(oid, to_regrole(quote_ident(${owner})), 'USAGE') as owns
    from pg_roles where rolname = ${role}`.execute(db);
  const existing = rows[0];
  if (existing?.superuser) {
    throw new Error(`role ${role} is a superuser: choose another name (--writer-role, --reader-role)`);
  }
  if (existing?.owns) {
    throw new Error(
      `role ${role} owns the tables (or inherits from their owner ${owner}): choose another name (--writer-role, --reader-role)`,
    );
  }
  if (!target.mayCreateRoles && (existing === undefined || password !== undefined)) {
    throw new Error(
      existing === undefined
        ? `role ${role} does not exist, and ${target.currentUser} may not create roles (no CREATEROLE): ` +
            'create it where your platform manages roles (or as a role with CREATEROLE), then run again; ' +
            'an existing role is only granted to'
        : `setting the password of role ${role} needs CREATEROLE, which ${target.currentUser} lacks: ` +
            'set it where your platform manages roles, then run again without the password',
    );
  }
  const migration: RoleMigration = {
    role,
    created: existing === undefined,
    login: existing?.login ?? false,
    passwordSet: false,
    statements: [],
  };
  if (existing === undefined && password === undefined) {
    await run(db, migration, 'create role %I nologin', [role]);
  } else if (password !== undefined) {
    await run(
      db,
      migration,
      existing === undefined ? 'create role %I login password %L' : 'alter role %I login password %L',
      [role, password],
      { secret: password },
    );
    migration.login = true;
    migration.passwordSet = true;
  }
  return migration;
}

/**
 * Refuses a role that may create objects in the schema: the rollup triggers run as the owner,
 * and functions of the schema's path (the partition upkeep) run as the owner's sessions.
 *
 * CONNECT on the database and USAGE on the schema, without which no privilege on a table is
 * of any use (without USAGE the tables are not even found). PUBLIC has both by default, but
 * hardened clusters revoke them, so they are granted explicitly whenever we may; only the
 * owners of the database and of the schema may (`public` belongs to the database owner,
 * often not the tables' owner), so otherwise a role that has them through PUBLIC is left as it
 * is, and one that lacks them is an error naming the grant.
 */
async function grantCommon(
  db: Kysely<AnalyticsDatabase>,
  migration: RoleMigration,
  target: GrantTarget,
): Promise<void> {
  const { role } = migration;
  const { rows } = await sql<{
    may_grant_connect: boolean;
    has_connect: boolean;
    may_grant_usage: boolean;
    has_usage: boolean;
    may_create: boolean;
  }>`select has_database_privilege(current_database(), 'CONNECT WITH GRANT OPTION') as may_grant_connect,
            has_database_privilege(${role}, current_database(), 'CONNECT') as has_connect,
            has_schema_privilege(${target.schema}, 'USAGE WITH GRANT OPTION') as may_grant_usage,
            has_schema_privilege(${role}, ${target.schema}, 'USAGE') as has_usage,
            has_schema_privilege(${role}, ${target.schema}, 'CREATE') as may_create`.execute(db);
  const found = rows[0]!;
  if (found.may_create) {
    const { statement } = await formatStatement(db, 'revoke create on schema %I from %I', [
      target.schema,
      role,
    ]);
    throw new Error(
      `role ${role} may create objects in schema ${target.schema}, so it could run code as the owner of the tables: ` +
        `run \`${statement}\` (or revoke it from the role it has it through), then again`,
    );
  }
  const needs = [
    {
      may: found.may_grant_connect,
      has: found.has_connect,
      template: 'grant connect on database %I to %I',
      on: target.database,
    },
    {
      may: found.may_grant_usage,
      has: found.has_usage,
      template: 'grant usage on schema %I to %I',
      on: target.schema,
    },
  ];
  for (const { may, has, template, on } of needs) {
    if (may) {
      await run(db, migration, template, [on, role]);
    } else if (!has) {
      const { statement } = await formatStatement(db, template, [on, role]);
      throw new Error(
        `role ${role} lacks a privilege only the owner may grant: run \`${statement}\` as the owner of ${on}, then again`,
      );
    }
  }
}

/** Runs a statement built by {@link formatStatement}, recording it (its password masked). */
async function run(
  db: Kysely<AnalyticsDatabase>,
  migration: RoleMigration,
  template: string,
  args: readonly string[],
  { secret }: { secret?: string } = {},
): Promise<void> {
  const { statement, shown } = await formatStatement(db, template, args, secret);
  await sql.raw(statement).execute(db);
  migration.statements.push(secret === undefined ? statement : shown);
}

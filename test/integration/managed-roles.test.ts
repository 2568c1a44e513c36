import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageRoot, SCHEMA_VERSION } from '../../admin/migrate.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ExportResultLike, ReadableSpanLike } from '../../src/span-types.js';
import { apiSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');

/** Roles are cluster-wide: names of this file's own, so parallel runs never meet. */
const suffix = `m${process.pid}_${randomBytes(3).toString('hex')}`;
const OWNER = `platform_owner_${suffix}`;
const WRITER = `platform_writer_${suffix}`;
const READER = `platform_reader_${suffix}`;
const WRITER_PASSWORD = `pw-${randomBytes(6).toString('hex')}`;

function urlAs(databaseUrl: string, role: string, password = ''): string {
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/** The CLI as the owner; resolves to its exit code and output instead of throwing. */
async function cliAsOwner(
  db: TestDatabase,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cli, ...args, '--database-url', urlAs(db.url, OWNER)], {
    env: { ...process.env, ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<ExportResultLike> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

/**
 * A managed service's shape (RDS, Cloud SQL, Supabase, Neon): nobody is superuser, the
 * database belongs to an ordinary owner without CREATEROLE, and the platform made the roles.
 */
describe('on a managed service: an owner without superuser or CREATEROLE, roles made by the platform', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('managed_roles', { schema: false });
    await db.query(`create role ${OWNER} login nosuperuser nocreaterole nocreatedb`);
    await db.query(`create role ${WRITER} login password '${WRITER_PASSWORD}'`);
    await db.query(`create role ${READER} nologin`);
    // The owner of the database owns `public` too (pg_database_owner), as on these services.
    await db.query(`alter database ${db.name} owner to ${OWNER}`);
  });

  afterAll(async () => {
    await db?.query(`drop owned by ${WRITER}, ${READER}, ${OWNER}`).catch(() => undefined);
    await db?.drop();
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      for (const role of [WRITER, READER, OWNER]) await admin.query(`drop role if exists ${role}`);
    } finally {
      await admin.end();
    }
  });

  it('migrates as the owner, who then owns the tables', async () => {
    const result = await cliAsOwner(db, ['migrate']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`schema version ${SCHEMA_VERSION} (was 0)`);
    const owners = await db.query<{ owner: string }>(
      `select distinct pg_get_userbyid(relowner)::text as owner from pg_class
       where relname in ('api_access_log', 'authentication_log', 'external_api_call_log')`,
    );
    expect(owners).toEqual([{ owner: OWNER }]);
  });

  it('refuses a role that does not exist, naming the fix, and changes nothing', async () => {
    const missing = `platform_missing_${suffix}`;
    const result = await cliAsOwner(db, [
      'migrate',
      '--roles',
      '--writer-role',
      missing,
      '--reader-role',
      READER,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `role ${missing} does not exist, and ${OWNER} may not create roles (no CREATEROLE): create it where your platform manages roles`,
    );
    expect(await db.query('select 1 from pg_roles where rolname = $1', [missing])).toEqual([]);
    const grants = await db.query(`select 1 from information_schema.role_table_grants where grantee = $1`, [
      READER,
    ]);
    expect(grants).toEqual([]);
  });

  it('refuses to set a password it may not set, naming the fix', async () => {
    const result = await cliAsOwner(
      db,
      ['migrate', '--roles', '--writer-role', WRITER, '--reader-role', READER],
      {
        OTEL_ANALYTICS_WRITER_PASSWORD: 'new-password',
      },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `setting the password of role ${WRITER} needs CREATEROLE, which ${OWNER} lacks`,
    );
  });

  it('grants to the existing roles, and the writer writes through the real exporter', async () => {
    const result = await cliAsOwner(db, [
      'migrate',
      '--roles',
      '--writer-role',
      WRITER,
      '--reader-role',
      READER,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const privileges = await db.query<{ grantee: string; privilege_type: string }>(
      `select grantee::text, privilege_type::text from information_schema.role_table_grants
       where table_name = 'api_access_log' and grantee in ($1, $2) order by grantee, privilege_type`,
      [READER, WRITER],
    );
    expect(privileges).toEqual([
      { grantee: READER, privilege_type: 'SELECT' },
      { grantee: WRITER, privilege_type: 'INSERT' },
    ]);
    const exporter = new PostgresSpanExporter({
      connectionString: urlAs(db.url, WRITER, WRITER_PASSWORD),
      statsIntervalMillis: 0,
    });
    try {
      expect((await exportSpans(exporter, [apiSpan({ 'enduser.id': 'managed' })])).code).toBe(0);
      await exporter.forceFlush();
      expect(exporter.getStats()).toEqual(expect.objectContaining({ exportedRows: 1, droppedRows: {} }));
    } finally {
      await exporter.shutdown();
    }
    expect(await db.query('select user_id from api_access_log')).toEqual([{ user_id: 'managed' }]);
  });
});

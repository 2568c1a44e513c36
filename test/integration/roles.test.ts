import { execFile } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { doctor } from '../../doctor/doctor.js';
import type { DoctorCheck } from '../../doctor/doctor-check.js';
import { migrate, packageRoot, SCHEMA_VERSION } from '../../admin/migrate.js';
import { migrateRoles } from '../../admin/migrate-roles.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ExportResultLike, ReadableSpanLike } from '../../src/span-types.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');

/** Roles are cluster-wide: names of this file's own, so parallel runs never meet. */
const suffix = `t${process.pid}_${randomBytes(3).toString('hex')}`;
const WRITER = `otel_analytics_writer_${suffix}`;
const READER = `otel_analytics_reader_${suffix}`;
const WRITER_PASSWORD = `w'r"i\\te $${randomBytes(4).toString('hex')}`;
const READER_PASSWORD = `r-${randomBytes(6).toString('hex')}`;

const LOG_TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'];
const ALL_TABLES = [...LOG_TABLES, 'analytics_pipeline_stats', 'analytics_schema_version'];

/** A connection string for `role` on the same server and database. */
function urlAs(databaseUrl: string, role: string, password = ''): string {
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/** Runs one statement as `role` over TCP; resolves to the SQLSTATE of its error, or 'ok'. */
async function attempt(url: string, text: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(text);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a stored SCRAM-SHA-256 verifier was made from `password` (ASCII: SASLprep changes nothing). */
function scramMatches(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const salted = pbkdf2Sync(password, Buffer.from(match[2]!, 'base64'), Number(match[1]), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest('base64') === match[3];
}

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<ExportResultLike> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function only(report: DoctorCheck[], name: DoctorCheck['check']): DoctorCheck {
  const found = report.filter((check) => check.check === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** What a rerun must leave unchanged: the roles' attributes, every grant, the default privileges. */
async function privilegeSnapshot(db: TestDatabase, roles: string[]): Promise<unknown> {
  return db.query(
    `select r.rolname, r.rolcanlogin, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
            (select array_agg(c.relname || ':' || p.privilege_type order by c.relname, p.privilege_type)
             from pg_class c, aclexplode(c.relacl) p
             where p.grantee = r.oid and c.relnamespace = 'public'::regnamespace) as tables,
            (select array_agg(p.privilege_type::text order by 1)
             from pg_default_acl d, aclexplode(d.defaclacl) p where p.grantee = r.oid) as defaults,
            has_database_privilege(r.oid, current_database(), 'CONNECT') as can_connect,
            has_schema_privilege(r.oid, 'public', 'USAGE') as schema_usage
     from pg_roles r where r.rolname = any($1::text[]) order by r.rolname`,
    [roles],
  );
}

describe('migrate --roles', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    // No schema yet: `migrate --roles` migrates, then grants.
    db = await createTestDatabase('roles', { schema: false });
    const env = {
      ...process.env,
      OTEL_ANALYTICS_WRITER_PASSWORD: WRITER_PASSWORD,
      OTEL_ANALYTICS_READER_PASSWORD: READER_PASSWORD,
    };
    const { stdout } = await run(
      process.execPath,
      [cli, 'migrate', '--roles', '--database-url', db.url, '--writer-role', WRITER, '--reader-role', READER],
      { env },
    );
    expect(stdout).toContain(`schema version ${SCHEMA_VERSION} (was 0); applied schema.sql`);
    expect(stdout).toContain(`writer (INSERT only) ${WRITER}: created (LOGIN, password set)`);
    expect(stdout).toContain(`reader (SELECT only) ${READER}: created (LOGIN, password set)`);
    expect(stdout).not.toContain(WRITER_PASSWORD);
    expect(stdout).not.toContain(READER_PASSWORD);
  });

  afterAll(async () => {
    // Privileges and default privileges depend on the roles: drop them before the roles.
    await db?.query(`drop owned by ${WRITER}, ${READER}`).catch(() => undefined);
    await db?.drop();
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      await admin.query(`drop role if exists ${WRITER}`);
      await admin.query(`drop role if exists ${READER}`);
    } finally {
      await admin.end();
    }
  });

  it('makes LOGIN roles with the passwords of the env vars, stored as SCRAM verifiers of exactly them', async () => {
    const rows = await db.query<{ rolname: string; rolcanlogin: boolean; rolpassword: string }>(
      'select rolname, rolcanlogin, rolpassword from pg_authid where rolname = any($1::text[]) order by rolname',
      [[WRITER, READER]],
    );
    expect(rows.map((row) => [row.rolname, row.rolcanlogin])).toEqual([
      [READER, true],
      [WRITER, true],
    ]);
    // The password with quotes and a backslash arrived intact (pg_hba here trusts, so a login
    // would not tell a wrong password apart: the verifier does).
    expect(scramMatches(rows.find((row) => row.rolname === WRITER)!.rolpassword, WRITER_PASSWORD)).toBe(true);
    expect(scramMatches(rows.find((row) => row.rolname === READER)!.rolpassword, READER_PASSWORD)).toBe(true);
    expect(scramMatches(rows.find((row) => row.rolname === WRITER)!.rolpassword, 'wrong')).toBe(false);
    expect(await attempt(urlAs(db.url, WRITER, WRITER_PASSWORD), 'select 1')).toBe('ok');
  });

  it('is idempotent: a second run succeeds and leaves roles and grants exactly as they were', async () => {
    const before = await privilegeSnapshot(db, [WRITER, READER]);
    const env = {
      ...process.env,
      OTEL_ANALYTICS_WRITER_PASSWORD: WRITER_PASSWORD,
      OTEL_ANALYTICS_READER_PASSWORD: READER_PASSWORD,
    };
    const { stdout } = await run(
      process.execPath,
      [cli, 'migrate', '--roles', '--database-url', db.url, '--writer-role', WRITER, '--reader-role', READER],
      { env },
    );
    expect(stdout).toContain('already up to date');
    expect(stdout).toContain(`${WRITER}: exists (LOGIN, password set)`);
    expect(await privilegeSnapshot(db, [WRITER, READER])).toEqual(before);
    expect(before).toMatchObject([
      { rolname: READER, rolsuper: false, can_connect: true, schema_usage: true, defaults: ['SELECT'] },
      {
        rolname: WRITER,
        rolsuper: false,
        can_connect: true,
        schema_usage: true,
        defaults: null,
        tables: [
          'analytics_pipeline_stats:INSERT',
          'api_access_log:INSERT',
          'authentication_log:INSERT',
          'external_api_call_log:INSERT',
        ],
      },
    ]);
  });

  it('resets extra privileges a role was given by hand on the tables', async () => {
    await db.query(`grant select, delete on api_access_log to ${WRITER}`);
    await migrateRoles(db.url, { writerRole: WRITER, readerRole: READER });
    expect(await attempt(urlAs(db.url, WRITER), 'select 1 from api_access_log')).toBe('42501');
  });

  it('lets the writer insert through the real exporter, rows of all three tables and a replayed batch, with no role warning', async () => {
    const capture = captureDiagWarnings();
    const exporter = new PostgresSpanExporter({
      connectionString: urlAs(db.url, WRITER, WRITER_PASSWORD),
      statsIntervalMillis: 0,
    });
    try {
      const spans = [apiSpan({ 'enduser.id': 'u1' }), authSpan(), externalSpan()];
      expect((await exportSpans(exporter, spans)).code).toBe(0);
      await exporter.forceFlush();
      // The same batch again, as a retry or a spool replay sends it: ON CONFLICT DO NOTHING.
      expect((await exportSpans(exporter, spans)).code).toBe(0);
      await exporter.forceFlush();
      await exporter.shutdown();
      const stats = exporter.getStats();
      expect(stats).toEqual(expect.objectContaining({ exportedRows: 6, droppedRows: {}, rejectedRows: {} }));
      expect(capture.warnings).toEqual([]);
    } finally {
      capture.stop();
    }
    for (const table of LOG_TABLES) {
      const [row] = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      expect(row!.n, table).toBe(1);
    }
    // The final snapshot at shutdown went into the stats table: INSERT there works too.
    const [stats] = await db.query<{ n: number }>(
      'select count(*)::int as n from analytics_pipeline_stats where final',
    );
    expect(stats!.n).toBe(1);
  });

  it('denies the writer SELECT, UPDATE, DELETE and TRUNCATE on every table, and any write to the version table', async () => {
    const url = urlAs(db.url, WRITER, WRITER_PASSWORD);
    const results: Record<string, string> = {};
    for (const table of ALL_TABLES) {
      for (const statement of [
        `select * from ${table}`,
        `update ${table} set ${table === 'analytics_schema_version' ? 'version' : 'time'} = ${table === 'analytics_schema_version' ? 'version' : 'time'}`,
        `delete from ${table}`,
        `truncate ${table}`,
      ]) {
        results[statement] = await attempt(url, statement);
      }
    }
    results.version = await attempt(url, `insert into analytics_schema_version values (99, 'x')`);
    expect(Object.entries(results).filter(([, code]) => code !== '42501')).toEqual([]);
    // With a conflict target, ON CONFLICT needs SELECT: this is why the exporter has none.
    expect(
      await attempt(
        url,
        `insert into api_access_log (time, span_id) values (now(), 'x') on conflict (span_id, time) do nothing`,
      ),
    ).toBe('42501');
  });

  it('lets the reader select every table, and a view created after migrate --roles, and write nothing', async () => {
    const url = urlAs(db.url, READER, READER_PASSWORD);
    for (const table of ALL_TABLES) expect(await attempt(url, `select * from ${table}`), table).toBe('ok');
    await db.query('create view roles_test_daily as select count(*) as n from api_access_log');
    expect(await attempt(url, 'select * from roles_test_daily')).toBe('ok');
    const writes = [
      `insert into authentication_log (time, span_id, event_type, success) values (now(), 'r', 'login', true)`,
      `insert into analytics_pipeline_stats (time, instance_id) values (now(), 'r')`,
      'update api_access_log set user_id = null',
      'delete from external_api_call_log',
      'truncate api_access_log',
    ];
    for (const statement of writes) expect(await attempt(url, statement), statement).toBe('42501');
  });

  it('creates NOLOGIN group roles without passwords, usable by a login role granted them', async () => {
    const writer = `${WRITER}_g`;
    const reader = `${READER}_g`;
    const app = `otel_analytics_app_${suffix}`;
    try {
      const env = { ...process.env };
      delete env.OTEL_ANALYTICS_WRITER_PASSWORD;
      delete env.OTEL_ANALYTICS_READER_PASSWORD;
      const { stdout } = await run(
        process.execPath,
        [
          cli,
          'migrate',
          '--roles',
          '--database-url',
          db.url,
          '--writer-role',
          writer,
          '--reader-role',
          reader,
        ],
        { env },
      );
      expect(stdout).toContain(`${writer}: created (NOLOGIN)`);
      const rows = await db.query<{ rolname: string; rolcanlogin: boolean; rolpassword: string | null }>(
        'select rolname, rolcanlogin, rolpassword from pg_authid where rolname = any($1::text[])',
        [[writer, reader]],
      );
      expect(rows.map((row) => [row.rolcanlogin, row.rolpassword])).toEqual([
        [false, null],
        [false, null],
      ]);
      expect(await attempt(urlAs(db.url, writer), 'select 1')).toBe('28000');
      await db.query(`create role ${app} login in role ${writer}`);
      const appUrl = urlAs(db.url, app);
      expect(
        await attempt(
          appUrl,
          `insert into authentication_log (time, span_id, event_type, success) values (now(), 'g', 'login', true)`,
        ),
      ).toBe('ok');
      expect(await attempt(appUrl, 'select * from authentication_log')).toBe('42501');
    } finally {
      await db.query(`drop role if exists ${app}`);
      await db.query(`drop owned by ${writer}, ${reader}`).catch(() => undefined);
      await db.query(`drop role if exists ${writer}`);
      await db.query(`drop role if exists ${reader}`);
    }
  });

  it('refuses a superuser as the writer and a name PostgreSQL would cut, changing nothing', async () => {
    await expect(migrateRoles(db.url, { writerRole: 'postgres', readerRole: READER })).rejects.toThrow(
      'role postgres is a superuser',
    );
    await expect(migrateRoles(db.url, { writerRole: 'w'.repeat(64), readerRole: READER })).rejects.toThrow(
      'longer than 63 bytes',
    );
    await expect(migrateRoles(db.url, { writerRole: READER, readerRole: READER })).rejects.toThrow(
      'must be different roles',
    );
  });

  it('takes role names with quotes and spaces as names, not SQL', async () => {
    const hostile = `w"; drop table api_access_log; -- ${suffix}`;
    try {
      const result = await migrateRoles(db.url, { writerRole: hostile, readerRole: READER });
      expect(result.writer).toMatchObject({ role: hostile, created: true });
      const [found] = await db.query<{ n: number }>(
        'select count(*)::int as n from pg_roles where rolname = $1',
        [hostile],
      );
      expect(found!.n).toBe(1);
      expect(await db.query(`select to_regclass('api_access_log') is not null as present`)).toEqual([
        { present: true },
      ]);
    } finally {
      const [quoted] = await db.query<{ q: string }>('select quote_ident($1) as q', [hostile]);
      await db.query(`drop owned by ${quoted!.q}`);
      await db.query(`drop role ${quoted!.q}`);
    }
  });
});

describe('role warnings', () => {
  let db: TestDatabase;
  const owner = `otel_analytics_owner_${suffix}`;
  const writer = `${WRITER}_w`;
  const reader = `${READER}_w`;

  beforeAll(async () => {
    // Tables owned by an ordinary login role, as in production; migrated by it.
    db = await createTestDatabase('roles_warn', { schema: false });
    await db.query(`create role ${owner} login createrole`);
    await db.query(`grant create on schema public to ${owner}`);
    await migrate(urlAs(db.url, owner));
    await migrateRoles(urlAs(db.url, owner), {
      writerRole: writer,
      readerRole: reader,
      writerPassword: 'w-secret',
      readerPassword: 'r-secret',
    });
  });

  afterAll(async () => {
    await db?.query(`drop owned by ${writer}, ${reader}, ${owner}`).catch(() => undefined);
    await db?.drop();
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      for (const role of [writer, reader, owner]) await admin.query(`drop role if exists ${role}`);
    } finally {
      await admin.end();
    }
  });

  /** The warnings an exporter connected as `url` gives over two batches. */
  async function exporterWarnings(url: string): Promise<string[]> {
    const capture = captureDiagWarnings();
    const exporter = new PostgresSpanExporter({ connectionString: url, statsIntervalMillis: 0 });
    try {
      await exportSpans(exporter, [apiSpan()]);
      await exporter.forceFlush();
      await exportSpans(exporter, [apiSpan(), authSpan()]);
      await exporter.forceFlush();
      expect(exporter.getStats().exportedRows).toBe(3);
      return capture.warnings;
    } finally {
      await exporter.shutdown();
      capture.stop();
    }
  }

  it('the exporter warns once when connected as a superuser', async () => {
    const warnings = await exporterWarnings(urlAs(db.url, 'postgres'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'connected as superuser postgres: use the INSERT-only role from `otel-pg-analytics migrate --roles`',
    );
  });

  it('the exporter warns once when connected as the owner of the log tables', async () => {
    const warnings = await exporterWarnings(urlAs(db.url, owner));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      `connected as ${owner}, the owner of the log tables: use the INSERT-only role`,
    );
  });

  it('the exporter says nothing as the writer', async () => {
    expect(await exporterWarnings(urlAs(db.url, writer, 'w-secret'))).toEqual([]);
  });

  it('a role check that fails costs the export nothing: rows land, no warning', async () => {
    const real = new pg.Pool({ connectionString: urlAs(db.url, 'postgres'), max: 1 });
    real.on('error', () => {});
    // Every statement goes through; the catalog query of the role check fails.
    const pool = {
      options: real.options,
      end: () => real.end(),
      async connect() {
        const client = await real.connect();
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        (client as unknown as { query: unknown }).query = (text: unknown, ...rest: unknown[]) =>
          typeof text === 'string' && text.includes('pg_has_role')
            ? Promise.reject(new Error('catalog unavailable'))
            : query(text, ...rest);
        return client;
      },
    };
    const capture = captureDiagWarnings();
    const exporter = new PostgresSpanExporter({ pool, statsIntervalMillis: 0 });
    try {
      await exportSpans(exporter, [apiSpan(), authSpan()]);
      await exporter.forceFlush();
      expect(exporter.getStats()).toEqual(
        expect.objectContaining({ exportedRows: 2, droppedRows: {}, rejectedRows: {} }),
      );
      expect(capture.warnings).toEqual([]);
    } finally {
      await exporter.shutdown();
      await real.end();
      capture.stop();
    }
  });

  it('doctor warns about a superuser and the owner in its role check', async () => {
    for (const [url, text] of [
      [urlAs(db.url, 'postgres'), 'connected as superuser postgres'],
      [urlAs(db.url, owner), `connected as ${owner}, the owner of the log tables`],
    ] as const) {
      const report = await doctor(url);
      expect(only(report, 'role')).toMatchObject({
        status: 'warn',
        message: expect.stringContaining(text),
        fix: expect.stringContaining('migrate --roles'),
      });
      expect(report.filter((check) => check.status === 'fail')).toEqual([]);
    }
  });

  it('doctor as the writer: role ok, and unreadable pipeline stats are a warning, not a failure', async () => {
    const report = await doctor(urlAs(db.url, writer, 'w-secret'));
    expect(report.map((check) => [check.check, check.status])).toEqual([
      ['connection', 'ok'],
      ['schema-version', 'warn'],
      ['tables', 'ok'],
      ['layout', 'ok'],
      ['privileges', 'ok'],
      ['role', 'ok'],
      ['pipeline', 'warn'],
    ]);
    expect(only(report, 'pipeline').message).toBe(
      `cannot read pipeline stats as ${writer} (INSERT-only): run doctor with the reader role`,
    );
    expect(JSON.stringify(report)).not.toContain('w-secret');
  });

  it('doctor as the reader: pipeline health is read, and its missing INSERT is not a failure', async () => {
    const report = await doctor(urlAs(db.url, reader, 'r-secret'));
    // One pipeline line per exporter process the tests above ran (each shut down cleanly).
    const pipeline = report.filter((check) => check.check === 'pipeline');
    expect(pipeline.length).toBeGreaterThan(0);
    expect(pipeline.every((check) => check.status === 'ok')).toBe(true);
    expect(
      report.filter((check) => check.check !== 'pipeline').map((check) => [check.check, check.status]),
    ).toEqual([
      ['connection', 'ok'],
      ['schema-version', 'ok'],
      ['tables', 'ok'],
      ['layout', 'ok'],
      ['privileges', 'warn'],
      ['role', 'ok'],
    ]);
    expect(only(report, 'privileges').message).toContain('may read but not write the tables (a reader role)');
  });

  it('doctor warns about a role that may insert and also delete', async () => {
    const extra = `${WRITER}_x`;
    await db.query(`create role ${extra} login`);
    try {
      await db.query(
        `grant insert on api_access_log, authentication_log, external_api_call_log, analytics_pipeline_stats to ${extra}`,
      );
      await db.query(`grant delete on authentication_log to ${extra}`);
      expect(only(await doctor(urlAs(db.url, extra)), 'role')).toMatchObject({
        status: 'warn',
        message: `role ${extra} may also DELETE authentication_log, which the exporter never needs`,
      });
    } finally {
      await db.query(`drop owned by ${extra}`);
      await db.query(`drop role ${extra}`);
    }
  });
});

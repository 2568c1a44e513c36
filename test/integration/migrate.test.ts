import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPELINE_STATS_COLUMNS,
  TABLE_COLUMNS,
  type ColumnSpec,
  type TableName,
} from '../../database/analytics-database.js';
import { listMigrations, migrate, packageRoot, SCHEMA_VERSION } from '../../admin/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');

/** Columns (with defaults), types, constraints, indexes, views and functions: what must not drift. */
async function catalog(db: TestDatabase): Promise<unknown> {
  const columns = await db.query(`
    select table_name, column_name, data_type, is_nullable, column_default, numeric_precision, numeric_scale, is_identity
    from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`);
  const constraints = await db.query(`
    select conrelid::regclass::text as table_name, contype, pg_get_constraintdef(oid) as definition
    from pg_constraint where connamespace = 'public'::regnamespace order by 1, 3`);
  const indexes = await db.query(`
    select tablename, indexdef from pg_indexes where schemaname = 'public' order by tablename, indexname`);
  const views = await db.query(`
    select viewname, definition from pg_views where schemaname = 'public' order by viewname`);
  const functions = await db.query(`
    select proname, pg_get_functiondef(oid) as definition, proacl::text[] as acl
    from pg_proc where pronamespace = 'public'::regnamespace order by proname`);
  return { columns, constraints, indexes, views, functions };
}

/** Roles are cluster-wide: the grantee of the upgrade test is dropped once its database is. */
async function migrateRolesCleanup(): Promise<void> {
  const admin = await createTestDatabase('migrate_cleanup', { schema: false });
  try {
    await admin.query('drop role if exists pga_v3_grantee');
  } finally {
    await admin.drop();
  }
}

describe('migrate', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('migrate', { schema: false });
  });

  afterAll(async () => {
    await db.drop();
  });

  it('applies schema.sql to an empty database and records the version', async () => {
    const result = await migrate(db.url);
    expect(result).toEqual({ from: 0, to: SCHEMA_VERSION, applied: ['schema.sql'], layout: 'single' });
    const [row] = await db.query<{ version: number }>(
      'select max(version) as version from analytics_schema_version',
    );
    expect(row!.version).toBe(SCHEMA_VERSION);
  });

  it('is harmless when run again, also concurrently', async () => {
    const before = await catalog(db);
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    for (const result of results)
      expect(result).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [], layout: 'single' });
    expect(await catalog(db)).toEqual(before);
  });

  it('leaves schema.sql itself idempotent when applied twice by hand', async () => {
    const before = await catalog(db);
    await db.query(readFileSync(path.join(packageRoot(), 'schema.sql'), 'utf8'));
    expect(await catalog(db)).toEqual(before);
  });

  it('creates the keys that allow time partitioning and idempotent writes', async () => {
    const constraints = await db.query<{ table_name: string; definition: string }>(`
      select conrelid::regclass::text as table_name, pg_get_constraintdef(oid) as definition
      from pg_constraint where contype in ('p', 'u') and conrelid::regclass::text like '%_log'`);
    for (const table of ['api_access_log', 'authentication_log', 'external_api_call_log']) {
      const defs = constraints.filter((c) => c.table_name === table).map((c) => c.definition);
      expect(defs).toContain('PRIMARY KEY ("time", id)');
      expect(defs).toContain('UNIQUE (span_id, "time")');
    }
  });

  it('has exactly the columns the exporter writes, with matching types, in the log and stats tables', async () => {
    const pgTypes: Record<string, string> = {
      timestamptz: 'timestamp with time zone',
      text: 'text',
      integer: 'integer',
      bigint: 'bigint',
      'double precision': 'double precision',
      numeric: 'numeric',
      inet: 'inet',
      boolean: 'boolean',
    };
    const tables: [string, readonly ColumnSpec[]][] = [
      ...(Object.keys(TABLE_COLUMNS) as TableName[]).map((t): [string, readonly ColumnSpec[]] => [
        t,
        TABLE_COLUMNS[t],
      ]),
      ['analytics_pipeline_stats', PIPELINE_STATS_COLUMNS],
    ];
    for (const [table, columns] of tables) {
      const live = await db.query<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_name = $1 and column_name <> 'id' order by ordinal_position`,
        [table],
      );
      const expected = columns.map((c) => ({
        column_name: c.name,
        data_type: c.jsonb ? 'jsonb' : pgTypes[c.type],
      }));
      expect(live).toEqual(expected);
    }
  });

  it('refuses the distributed layout without Citus, and an unknown layout, changing nothing', async () => {
    const before = await catalog(db);
    await expect(migrate(db.url, { layout: 'distributed' })).rejects.toThrow(
      /layout 'distributed' needs a Citus coordinator, and this database has no citus extension/,
    );
    await expect(migrate(db.url, { layout: 'citus' as 'single' })).rejects.toThrow(
      'layout must be one of auto, single, distributed, not "citus"',
    );
    expect(await migrate(db.url, { layout: 'single' })).toMatchObject({ applied: [], layout: 'single' });
    expect(await catalog(db)).toEqual(before);
  });

  it('refuses a database whose schema is newer than the package', async () => {
    const newer = await createTestDatabase('migrate_newer');
    try {
      await newer.query(
        `insert into analytics_schema_version (version, description) values (${SCHEMA_VERSION + 1}, 'future')`,
      );
      await expect(migrate(newer.url)).rejects.toThrow(/newer than this package supports/);
    } finally {
      await newer.drop();
    }
  });

  it('brings a version 2 database to the same schema as a fresh schema.sql, with 0003 to 0006', async () => {
    const old = await createTestDatabase('migrate_v2', { schema: false });
    const fresh = await createTestDatabase('migrate_fresh2');
    try {
      await old.query(readFileSync(path.join(packageRoot(), 'test/fixtures/schema-v2.sql'), 'utf8'));
      const result = await migrate(old.url);
      expect(result).toEqual({
        from: 2,
        to: 6,
        applied: [
          '0003-dashboard-views.sql',
          '0004-daily-partitions.sql',
          '0005-rollups-follow-changes.sql',
          '0006-pinned-search-paths.sql',
        ],
        layout: 'single',
      });
      const views = await old.query<{ viewname: string }>(
        "select viewname from pg_views where schemaname = 'public' order by 1",
      );
      expect(views.map((v) => v.viewname)).toEqual(['analytics_api_requests', 'analytics_external_calls']);
      expect(await catalog(old)).toEqual(await catalog(fresh));
    } finally {
      await old.drop();
      await fresh.drop();
    }
  });

  it('upgrades a populated version 3 database in place: rows, ids, grants and views carried over', async () => {
    const old = await createTestDatabase('migrate_v3', { schema: false });
    try {
      await old.query(readFileSync(path.join(packageRoot(), 'test/fixtures/schema-v3.sql'), 'utf8'));
      // Rows over ten days, ending today; and a grant of the kind migrate --roles makes.
      await old.query(`
        insert into api_access_log (time, span_id, endpoint, status_code)
        select now() - make_interval(hours => h), 'a' || h, '/x', 200 from generate_series(0, 240, 6) h`);
      await old.query(`
        insert into authentication_log (time, span_id, event_type, success)
        values (now() - interval '9 days', 'l1', 'login', true), (now(), 'l2', 'login_failed', false)`);
      await old.query(
        `insert into external_api_call_log (time, span_id, service) values (now(), 'e1', 'gemini')`,
      );
      await old.query(`do $$ begin if not exists (select from pg_roles where rolname = 'pga_v3_grantee') then
        create role pga_v3_grantee nologin; end if; end $$`);
      await old.query('grant insert on api_access_log, authentication_log to pga_v3_grantee');
      const before = await old.query<{ n: number; max: string }>(
        'select count(*)::int as n, max(id)::text as max from api_access_log',
      );

      const result = await migrate(old.url);
      expect(result).toMatchObject({
        from: 3,
        to: 6,
        applied: [
          '0004-daily-partitions.sql',
          '0005-rollups-follow-changes.sql',
          '0006-pinned-search-paths.sql',
        ],
      });

      const [after] = await old.query<{ n: number; in_default: number; partitions: number }>(`
        select (select count(*)::int from api_access_log) as n,
               (select count(*)::int from api_access_log_default) as in_default,
               (select count(*)::int from pg_inherits where inhparent = 'api_access_log'::regclass) as partitions`);
      // Every row is in a daily partition: one per day from the oldest row's, a week ahead, and the default.
      expect(after).toEqual({ n: before[0]!.n, in_default: 0, partitions: 11 + 7 + 1 });
      const [auth] = await old.query<{ n: number }>('select count(*)::int as n from authentication_log');
      expect(auth!.n).toBe(2);
      // New rows get ids past the old ones.
      await old.query(`insert into api_access_log (time, span_id) values (now(), 'new')`);
      const [fresh] = await old.query<{ id: string }>(
        `select id::text from api_access_log where span_id = 'new'`,
      );
      expect(BigInt(fresh!.id)).toBeGreaterThan(BigInt(before[0]!.max));
      const grants = await old.query<{ table_name: string; privilege_type: string }>(`
        select table_name, privilege_type from information_schema.role_table_grants
        where grantee = 'pga_v3_grantee' order by 1`);
      expect(grants).toEqual([
        { table_name: 'api_access_log', privilege_type: 'INSERT' },
        { table_name: 'authentication_log', privilege_type: 'INSERT' },
      ]);
      const [view] = await old.query<{ n: number }>('select count(*)::int as n from analytics_api_requests');
      expect(view!.n).toBe(before[0]!.n + 1);
    } finally {
      await old.drop();
      await migrateRolesCleanup();
    }
  });

  it('brings a version 1 database to the same schema as a fresh schema.sql', async () => {
    const old = await createTestDatabase('migrate_v1', { schema: false });
    const fresh = await createTestDatabase('migrate_fresh');
    try {
      await old.query(readFileSync(path.join(packageRoot(), 'test/fixtures/schema-v1.sql'), 'utf8'));
      const result = await migrate(old.url);
      expect(result.applied).toEqual(listMigrations().map((m) => path.basename(m.file)));
      expect(await catalog(old)).toEqual(await catalog(fresh));
    } finally {
      await old.drop();
      await fresh.drop();
    }
  });
});

describe('otel-pg-analytics CLI', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('cli', { schema: false });
  });

  afterAll(async () => {
    await db.drop();
  });

  it('migrate creates the schema and says which version it reached', async () => {
    const { stdout } = await run(process.execPath, [cli, 'migrate', '--database-url', db.url]);
    expect(stdout).toContain(`schema version ${SCHEMA_VERSION} (was 0); applied schema.sql; layout single`);
    const again = await run(process.execPath, [cli, 'migrate'], {
      env: { ...process.env, OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    expect(again.stdout).toMatch(/already up to date/);
  });

  it('migrate --layout takes auto, single or distributed, and says what else is wrong', async () => {
    const failure = await run(process.execPath, [
      cli,
      'migrate',
      '--database-url',
      db.url,
      '--layout',
      'citus',
    ]).catch((error: unknown) => error);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stderr: string }).stderr).toBe(
      'otel-pg-analytics migrate: --layout must be one of auto, single, distributed, not "citus"\n',
    );
    const refused = await run(process.execPath, [
      cli,
      'migrate',
      '--database-url',
      db.url,
      '--layout',
      'distributed',
    ]).catch((error: unknown) => error);
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toMatch(/layout 'distributed' needs a Citus coordinator/);
    const { stdout } = await run(process.execPath, [
      cli,
      'migrate',
      '--database-url',
      db.url,
      '--layout',
      'single',
    ]);
    expect(stdout).toMatch(/layout single\n$/);
  });

  it('migrate without a database URL exits non-zero and says what to set', async () => {
    const env = { ...process.env };
    delete env.OTEL_ANALYTICS_DATABASE_URL;
    delete env.DATABASE_URL;
    const failure = await run(process.execPath, [cli, 'migrate'], { env }).catch((error: unknown) => error);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stderr: string }).stderr).toMatch(/OTEL_ANALYTICS_DATABASE_URL/);
  });

  it('migrate against an unreachable database fails with the driver message, not a stack trace', async () => {
    const failure = await run(process.execPath, [
      cli,
      'migrate',
      '--database-url',
      'postgres://postgres@127.0.0.1:1/none',
    ]).catch((error: unknown) => error);
    expect((failure as { code: number }).code).toBe(1);
    expect((failure as { stderr: string }).stderr).toMatch(/^otel-pg-analytics: .*ECONNREFUSED/);
  });

  it('schema prints schema.sql', async () => {
    const { stdout } = await run(process.execPath, [cli, 'schema']);
    expect(stdout).toBe(readFileSync(path.join(packageRoot(), 'schema.sql'), 'utf8'));
  });
});

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { doctor } from '../../doctor/doctor.js';
import { migrate, packageRoot, SCHEMA_VERSION } from '../../admin/migrate.js';
import { migrateRoles } from '../../admin/migrate-roles.js';
import { createTestDatabase, withClient, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack of issue 12: the INSERT-only writer plants objects that the rollup triggers (which
 * run as the tables' owner) might resolve instead of the schema's own, and inserts a row. Every
 * planted object, when run, notes the role it ran as and tries to widen the writer's rights.
 */

const LOG_TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'] as const;

/** A setup under attack: the database, its owner's and writer's connection strings. */
interface Target {
  db: TestDatabase;
  /** The schema of the tables, quoted as an identifier. */
  schema: string;
  ownerUrl: string;
  writerUrl: string;
  writer: string;
  owner: string;
  /** Roles this setup created, dropped with it. */
  roles: string[];
}

function asRole(url: string, role: string, password?: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = password ?? '';
  return parsed.toString();
}

/** A name that must be quoted everywhere, and breaks a string literal it is not escaped in. */
const ODD_SCHEMA = `Odd.Schema's`;

/**
 * A database whose schema `migrate` applied as `by` ('superuser', or a non-superuser role that
 * owns the database), from `fixture` (a schema.sql of an earlier version) when given, into
 * `schema` (default `public`, else one the owner owns, made first on every role's search_path
 * by the connection strings), with an INSERT-only writer from `migrate --roles`.
 */
async function createTarget(
  label: string,
  by: 'superuser' | 'owner',
  options: { fixture?: string; schema?: string } = {},
): Promise<Target> {
  const { fixture, schema: schemaName = 'public' } = options;
  const created = await createTestDatabase(label, { schema: false });
  const [{ quoted }] = (await created.query<{ quoted: string }>('select quote_ident($1) as quoted', [
    schemaName,
  ])) as [{ quoted: string }];
  const db: TestDatabase = { ...created, url: withSearchPath(created.url, quoted) };
  const roles: string[] = [];
  let ownerUrl = db.url;
  let owner = 'postgres';
  if (by === 'owner') {
    owner = `${db.name}_o`;
    roles.push(owner);
    await db.query(`create role ${owner} login nosuperuser`);
    // PostgreSQL 15: `public` belongs to the database's owner, who may create in it.
    await db.query(`alter database ${db.name} owner to ${owner}`);
    ownerUrl = asRole(db.url, owner);
    if (schemaName !== 'public') await db.query(`create schema ${quoted} authorization ${owner}`);
  } else {
    const [row] = await db.query<{ owner: string }>('select current_user::text as owner');
    owner = row!.owner;
  }
  if (fixture) {
    await withClient(ownerUrl, (client) =>
      client.query(readFileSync(path.join(packageRoot(), 'test/fixtures', fixture), 'utf8')),
    );
  } else {
    await migrate(ownerUrl);
  }
  const writer = `${db.name}_w`;
  const password = randomBytes(9).toString('base64url');
  roles.push(writer, `${db.name}_r`);
  await migrateRoles(db.url, { writerRole: writer, readerRole: `${db.name}_r`, writerPassword: password });
  return { db, schema: quoted, ownerUrl, writerUrl: asRole(db.url, writer, password), writer, owner, roles };
}

/** `url` with `schema` (an identifier, quoted) first on the session's search_path. */
function withSearchPath(url: string, schema: string): string {
  if (schema === 'public') return url;
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

async function dropTarget(target: Target | undefined): Promise<void> {
  if (!target) return;
  await target.db.query(`drop owned by ${target.roles.join(', ')}`).catch(() => undefined);
  await target.db.drop();
  await withClient(inject('adminDatabaseUrl'), async (admin) => {
    for (const role of target.roles) await admin.query(`drop role if exists ${role}`);
  });
}

/**
 * The body of every planted function: it records who it ran as, then tries, as that role, to
 * give the writer every right on the log tables and to make it a superuser.
 */
function payload(writer: string, schema: string): string {
  return `
    perform pg_catalog.set_config('pga.hijacked_as', current_user::text, false);
    begin
      execute $g$grant select, update, delete, truncate on ${schema}.api_access_log, ${schema}.authentication_log,
        ${schema}.external_api_call_log to ${writer}$g$;
    exception when others then null;
    end;
    begin
      execute 'alter role ${writer} superuser';
    exception when others then null;
    end;`;
}

/**
 * Everything the writer can plant: a temporary table for every relation name of the schema
 * (and for the transition table the triggers read), the rollup tables with the columns and keys
 * the triggers' upserts need, each with a statement trigger that runs the payload; and
 * functions and operators that would beat the built-ins the schema's functions call by a closer
 * type match (the rollup triggers', and the partition functions' the owner runs), in pg_temp
 * and, where it is writable, in the schema itself.
 */
async function plant(client: pg.Client, target: Target, schemaWritable: boolean): Promise<void> {
  const run = payload(target.writer, target.schema);
  await client.query(`create function pg_temp.hijack() returns trigger language plpgsql as $$
    begin ${run} return null; end $$`);
  await client.query(`
    create temp table analytics_api_hourly (hour timestamptz, service_name text, endpoint text,
      method text, status_class text, requests double precision, errors double precision,
      response_time_ms_sum double precision, latency_buckets double precision[],
      unique nulls not distinct (hour, service_name, endpoint, method, status_class));
    create temp table analytics_auth_hourly (hour timestamptz, service_name text, event_type text,
      success boolean, events bigint, unique nulls not distinct (hour, service_name, event_type, success));
    create temp table analytics_external_hourly (hour timestamptz, service_name text, service text,
      model text, calls bigint, errors bigint, cost_usd numeric, input_tokens numeric,
      output_tokens numeric, response_time_ms_sum double precision,
      unique nulls not distinct (hour, service_name, service, model));
    grant all on pg_temp.analytics_api_hourly, pg_temp.analytics_auth_hourly, pg_temp.analytics_external_hourly to public`);
  const { rows } = await client.query<{ relname: string }>(
    `select c.relname from pg_class c
     where c.relnamespace = to_regnamespace($1) and c.relkind in ('r', 'p', 'v', 'm')
     union select 'changed_rows'`,
    [target.schema],
  );
  for (const { relname } of rows) {
    if (!relname.endsWith('_hourly')) {
      await client.query(`create temp table ${relname} (like pg_temp.analytics_auth_hourly)`);
    }
    await client.query(
      `create trigger hijack after insert or update or delete on pg_temp.${relname}
       for each statement execute function pg_temp.hijack()`,
    );
  }
  // An overload of the schema's own function, where only pg_temp could hold it (in the schema
  // itself it would make the call ambiguous: a failed insert, not a hijack).
  await client.query(`create function pg_temp.analytics_latency_bounds_ms(integer default 0)
    returns double precision[] language plpgsql as $$ begin ${run} return array[1]::double precision[]; end $$`);
  const schemas = schemaWritable ? ['pg_temp', target.schema] : ['pg_temp'];
  for (const schema of schemas) {
    await client.query(`
      create function ${schema}.width_bucket(double precision, double precision[]) returns integer
        language plpgsql as $$ begin ${run} return 0; end $$;
      create function ${schema}.date_trunc(text, timestamptz, text) returns timestamptz
        language plpgsql as $$ begin ${run} return now(); end $$;
      create function ${schema}.jsonb_typeof(jsonb) returns text
        language plpgsql as $$ begin ${run} return 'x'; end $$;
      create function ${schema}.hijack_times(integer, double precision) returns double precision
        language plpgsql as $$ begin ${run} return 0; end $$;
      create function ${schema}.hijack_times(integer, numeric) returns numeric
        language plpgsql as $$ begin ${run} return 0; end $$;
      create function ${schema}.hijack_ge(integer, integer) returns boolean
        language plpgsql as $$ begin ${run} return true; end $$;
      create function ${schema}.format(text, text, text) returns text
        language plpgsql as $$ begin ${run} return pg_catalog.format($1, $2, $3); end $$;
      create function ${schema}.format(text, text, text, text) returns text
        language plpgsql as $$ begin ${run} return pg_catalog.format($1, $2, $3, $4); end $$;
      create function ${schema}.to_char(date, text) returns text
        language plpgsql as $$ begin ${run} return pg_catalog.to_char($1::timestamp, $2); end $$;
      create operator ${schema}.* (leftarg = integer, rightarg = double precision, function = ${schema}.hijack_times);
      create operator ${schema}.* (leftarg = integer, rightarg = numeric, function = ${schema}.hijack_times);
      create operator ${schema}.>= (leftarg = integer, rightarg = integer, function = ${schema}.hijack_ge)`);
  }
}

/** One row into each log table, as the writer. */
async function insertRows(client: pg.Client, schema: string): Promise<void> {
  await client.query(`insert into ${schema}.api_access_log (time, span_id, endpoint, method, status_code, response_time_ms, metadata)
    values (now(), 'attack-api', '/x', 'GET', 200, 12, '{}')`);
  await client.query(`insert into ${schema}.authentication_log (time, span_id, event_type, success)
    values (now(), 'attack-auth', 'login', true)`);
  await client.query(`insert into ${schema}.external_api_call_log (time, span_id, service, status_code, cost_estimate, metadata)
    values (now(), 'attack-ext', 'gemini', 200, 0.5, '{"input_tokens": 3, "output_tokens": 4}')`);
}

/** The writer plants everything it can, inserts, and reports what it gained. */
async function attack(
  target: Target,
  options: { schemaWritable?: boolean } = {},
): Promise<{ hijackedAs: string | null; superuser: boolean; privileges: string[] }> {
  return withClient(target.writerUrl, async (client) => {
    await plant(client, target, options.schemaWritable ?? false);
    await insertRows(client, target.schema);
    const hijackedAs = await hijackedIn(client);
    const [{ superuser }] = (
      await client.query<{ superuser: boolean }>(
        'select rolsuper as superuser from pg_roles where rolname = current_user',
      )
    ).rows as [{ superuser: boolean }];
    const privileges = (
      await client.query<{ privilege: string }>(
        `select t || ':' || p as privilege
         from unnest($1::text[]) t, unnest(array['SELECT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
         where has_table_privilege(current_user, $2 || '.' || t, p) order by 1`,
        [LOG_TABLES, target.schema],
      )
    ).rows.map((row) => row.privilege);
    return { hijackedAs, superuser, privileges };
  });
}

/** The role a planted object ran as in this session, if one ran. */
async function hijackedIn(client: pg.Client): Promise<string | null> {
  const { rows } = await client.query<{ hijacked_as: string | null }>(
    `select nullif(current_setting('pga.hijacked_as', true), '') as hijacked_as`,
  );
  return rows[0]!.hijacked_as;
}

const NOTHING_GAINED = { hijackedAs: null, superuser: false, privileges: [] };

/** The rollups count the writer's rows: the triggers wrote the schema's tables, not the planted ones. */
async function rolledUp(target: Target): Promise<unknown> {
  const s = target.schema;
  const [row] = await target.db.query(`
    select (select sum(requests)::int from ${s}.analytics_api_hourly) as requests,
           (select sum(events)::int from ${s}.analytics_auth_hourly) as events,
           (select sum(calls)::int from ${s}.analytics_external_hourly) as calls,
           (select sum(cost_usd)::text from ${s}.analytics_external_hourly) as cost,
           (select sum(input_tokens + output_tokens)::int from ${s}.analytics_external_hourly) as tokens`);
  return row;
}

describe.each([
  { by: 'superuser' as const, label: 'definer_su', schema: 'public' },
  { by: 'owner' as const, label: 'definer_owner', schema: 'public' },
  { by: 'owner' as const, label: 'definer_odd', schema: ODD_SCHEMA },
])('the schema’s functions, with migrate run by the $by into schema $schema', ({ by, label, schema }) => {
  let target: Target;

  beforeAll(async () => {
    target = await createTarget(label, by, { schema });
  });

  afterAll(async () => {
    await dropTarget(target);
  });

  it('cannot be made to run the writer’s objects as the owner: temporary tables, functions and operators', async () => {
    expect(await attack(target)).toEqual(NOTHING_GAINED);
    expect(await rolledUp(target)).toEqual({
      requests: 1,
      events: 1,
      calls: 1,
      cost: '0.50000000',
      tokens: 7,
    });
  });

  it('stay closed when the schema later becomes writable by every role, the owner’s partition upkeep too', async () => {
    await target.db.query(`grant create on schema ${target.schema} to public`);
    try {
      expect(await attack(target, { schemaWritable: true })).toEqual(NOTHING_GAINED);
      const ownerSaw = await withClient(target.ownerUrl, async (client) => {
        await client.query('select count(*) from analytics_ensure_partitions(3, 9)');
        await client.query(`select count(*) from analytics_prune_partitions(interval '2 days')`);
        return hijackedIn(client);
      });
      expect(ownerSaw).toBeNull();
    } finally {
      await target.db.query(`revoke create on schema ${target.schema} from public`);
      // What the writer planted in the schema outlives its session: gone before the next test.
      const planted = await target.db.query<{ fn: string }>(
        `select oid::regprocedure::text as fn from pg_proc where proowner = to_regrole($1)`,
        [target.writer],
      );
      for (const { fn } of planted) await target.db.query(`drop function if exists ${fn} cascade`);
    }
  });

  it('doctor, run as the writer, warns when the writer may create in the schema', async () => {
    const before = await doctor(target.writerUrl);
    expect(before.find((check) => check.check === 'role')).toMatchObject({ status: 'ok' });
    await target.db.query(`grant create on schema ${target.schema} to public`);
    try {
      const after = await doctor(target.writerUrl);
      expect(after.find((check) => check.check === 'role')).toMatchObject({
        status: 'warn',
        message: expect.stringContaining(`may create objects in schema ${target.schema} (as every role may)`),
        fix: `as the owner of the schema, run \`REVOKE CREATE ON SCHEMA ${target.schema} FROM PUBLIC\``,
      });
    } finally {
      await target.db.query(`revoke create on schema ${target.schema} from public`);
    }
  });

  it('cannot be attached by the writer to a table of its own', async () => {
    await withClient(target.writerUrl, async (client) => {
      await client.query(`create temp table mine (
        hour timestamptz, time timestamptz, service_name text, event_type text, success boolean)`);
      for (const fn of ['analytics_roll_up_api', 'analytics_roll_up_auth', 'analytics_roll_up_external']) {
        await expect(
          client.query(`create trigger t_${fn} after insert on pg_temp.mine referencing new table as changed_rows
            for each statement execute function ${target.schema}.${fn}('1')`),
        ).rejects.toThrow(/permission denied for function/);
      }
    });
  });
});

describe('the schema catalog', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('definer_catalog');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('pins the search_path of every SECURITY DEFINER function, pg_temp last', async () => {
    const definers = await db.query<{ name: string; path: string | null }>(`
      select p.oid::regprocedure::text as name,
             (select substr(c, length('search_path=') + 1) from unnest(p.proconfig) c
              where c like 'search_path=%') as path
      from pg_proc p where p.pronamespace = 'public'::regnamespace and p.prosecdef order by 1`);
    expect(definers.length).toBe(3);
    for (const { name, path: searchPath } of definers) {
      expect({ name, last: searchPath?.split(',').at(-1)?.trim() }).toEqual({ name, last: 'pg_temp' });
    }
  });

  it('leaves no function resolving names through the caller’s search_path', async () => {
    // Either the body was bound when created (a SQL-standard body) or its search_path is pinned.
    const unpinned = await db.query(`
      select p.oid::regprocedure::text as name from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prosqlbody is null
        and not exists (select from unnest(p.proconfig) c where c like 'search_path=%')`);
    expect(unpinned).toEqual([]);
  });

  it('lets no role but the owner execute the trigger functions', async () => {
    const executable = await db.query(`
      select p.proname::text as name from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prorettype = 'trigger'::regtype
        and has_function_privilege('public', p.oid, 'EXECUTE')`);
    expect(executable).toEqual([]);
  });
});

describe('a version 5 database, in a schema of its own', () => {
  let target: Target;

  beforeAll(async () => {
    target = await createTarget('definer_v5', 'owner', { fixture: 'schema-v5.sql', schema: ODD_SCHEMA });
  });

  afterAll(async () => {
    await dropTarget(target);
  });

  it('was open to the attack, and is closed once migrate upgrades it', async () => {
    const before = await attack(target);
    expect(before.hijackedAs).toBe(target.owner);
    expect(before.privileges.length).toBeGreaterThan(0);

    const result = await migrate(target.ownerUrl);
    expect(result).toMatchObject({ from: 5, to: SCHEMA_VERSION });
    // migrate --roles resets the writer's rights to INSERT; the attack then gains nothing.
    await migrateRoles(target.db.url, { writerRole: target.writer, readerRole: target.roles[2] });
    expect(await attack(target)).toEqual(NOTHING_GAINED);
  });
});

describe('migrate --roles for a role that may create in the schema', () => {
  let target: Target;

  beforeAll(async () => {
    target = await createTarget('definer_creator', 'superuser');
  });

  afterAll(async () => {
    await dropTarget(target);
  });

  it('refuses it as the writer, and names the statement that fixes it', async () => {
    await target.db.query(`grant create on schema public to ${target.writer}`);
    await expect(
      migrateRoles(target.db.url, { writerRole: target.writer, readerRole: target.roles[1] }),
    ).rejects.toThrow(`run \`revoke create on schema public from ${target.writer}\``);
    await target.db.query(`revoke create on schema public from ${target.writer}`);
    await expect(
      migrateRoles(target.db.url, { writerRole: target.writer, readerRole: target.roles[1] }),
    ).resolves.toMatchObject({ schema: 'public' });
  });
});

describe('migrate on a schema every role may create in', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('definer_writable', { schema: false });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('refuses, and names the statement that fixes it', async () => {
    await db.query('grant create on schema public to public');
    await expect(migrate(db.url)).rejects.toThrow(
      /schema public is writable by every role.*revoke create on schema public from public/is,
    );
    const [row] = await db.query<{ present: boolean }>(
      "select to_regclass('api_access_log') is not null as present",
    );
    expect(row!.present).toBe(false);
    await db.query('revoke create on schema public from public');
    await expect(migrate(db.url)).resolves.toMatchObject({ to: SCHEMA_VERSION });
  });
});

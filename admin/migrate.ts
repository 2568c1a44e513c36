import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { createKysely } from '../database/create-kysely.js';
import { withTransaction } from '../database/with-transaction.js';
import { applyDistributedLayout } from './apply-distributed-layout.js';
import {
  chooseLayout,
  databaseLayout,
  isLayoutOption,
  LAYOUT_OPTIONS,
  type DatabaseLayout,
  type LayoutOption,
} from './database-layout.js';

/** The schema version schema.sql creates. */
export const SCHEMA_VERSION = 6;

/** What {@link migrate} did. */
export interface MigrationResult {
  /** Version before (0: no schema). */
  from: number;
  /** Version after. */
  to: number;
  /** Files applied, in order. */
  applied: string[];
  /** The layout the database has now (see {@link MigrateOptions.layout}). */
  layout: DatabaseLayout;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /**
   * Where the log tables go. `distributed`: on a Citus coordinator, hash-distributed by
   * trace_id over its workers (migrations/citus/layout.sql; an existing single-node database
   * keeps its rows). `single`: tables of one PostgreSQL, also on a Citus coordinator. `auto`
   * (the default): `distributed` on a Citus coordinator, `single` elsewhere. `distributed`
   * without Citus, and `single` once distributed, throw.
   */
  layout?: LayoutOption;
}

const LOCK_KEY = 'otel-pg-analytics:migrate';

/** The package's root folder (where schema.sql lives), from source or from dist/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(path.join(dir, 'schema.sql'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('otel-pg-analytics: schema.sql not found next to the package');
}

/** The canonical, idempotent DDL. */
export function readSchemaSql(): string {
  return readFileSync(path.join(packageRoot(), 'schema.sql'), 'utf8');
}

/** Ordered migrations after version 1: `migrations/0002-<what>.sql`, ... */
export function listMigrations(): { version: number; file: string }[] {
  const dir = path.join(packageRoot(), 'migrations');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((file) => ({ file, match: /^(\d{4})-[\w-]+\.sql$/.exec(file) }))
    .filter((entry) => entry.match !== null)
    .map(({ file, match }) => ({ version: Number(match![1]), file: path.join(dir, file) }))
    .sort((a, b) => a.version - b.version);
}

/**
 * Brings a database to {@link SCHEMA_VERSION}: a database without the schema gets schema.sql;
 * an older one gets each migration after its version, in order; on a Citus coordinator, then
 * the distributed layout (see {@link MigrateOptions.layout}). Runs in one transaction under
 * an advisory lock, so concurrent runs are safe and a failed run changes nothing. Needs the
 * owner role (it creates tables), never the exporter's INSERT-only role.
 */
export async function migrate(
  connectionString: string,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const option: unknown = options.layout ?? 'auto';
  if (!isLayoutOption(option)) {
    throw new Error(`layout must be one of ${LAYOUT_OPTIONS.join(', ')}, not ${JSON.stringify(option)}`);
  }
  const { from, to, applied, created, layout } = await withTransaction(
    { connectionString, applicationName: 'otel-pg-analytics migrate' },
    async (client) => {
      const db = createKysely({ client });
      await sql`select pg_advisory_xact_lock(hashtext(${LOCK_KEY}))`.execute(db);
      await pinSearchPath(db);
      const layout = await chooseLayout(db, option);
      const distributing = layout === 'distributed' && (await databaseLayout(db)) === 'single';
      // Citus: one connection per worker for the whole transaction. Creating the daily
      // partitions of distributed tables needs it (see layout.sql), and Citus cannot switch to
      // it after a parallel query, nor create a function once one has run in the transaction.
      if (layout === 'distributed')
        await sql`set local citus.multi_shard_modify_mode to 'sequential'`.execute(db);
      const from = await currentVersion(db);
      if (from > SCHEMA_VERSION) {
        throw new Error(
          `the database schema is at version ${from}, newer than this package supports (${SCHEMA_VERSION}): upgrade otel-pg-analytics`,
        );
      }
      const applied: string[] = [];
      if (from === 0) {
        await sql.raw(readSchemaSql()).execute(db);
        applied.push('schema.sql');
      } else {
        for (const migration of listMigrations()) {
          if (migration.version <= from || migration.version > SCHEMA_VERSION) continue;
          await sql.raw(readFileSync(migration.file, 'utf8')).execute(db);
          applied.push(path.basename(migration.file));
        }
      }
      if (layout === 'distributed') {
        applied.push(...(await applyDistributedLayout(db, { root: packageRoot(), distributing })));
      }
      const to = await currentVersion(db);
      // Every run keeps the daily partitions a week ahead: a daily `migrate` is upkeep enough.
      const ensure = sql<{ n: number }>`select count(*)::int as n from analytics_ensure_partitions()`;
      return { from, to, applied, created: (await ensure.execute(db)).rows[0]!.n, layout };
    },
  );
  if (created > 0 && applied.length === 0) applied.push(`${created} daily partition(s)`);
  return { from, to, applied, layout };
}

/**
 * Pins this transaction's search_path to the schema of the tables (the schema first on the
 * connection's path for a new database), with pg_temp last: names in the files resolve there,
 * and what they create goes there. Refuses a schema every role may create in (PostgreSQL's
 * default for `public` before version 15): there any role could plant a function that beats a
 * built-in by a closer type match in the statements migrate runs, and so run as the owner (or
 * as the superuser running migrate). schema.sql refuses it too, for those who apply it by hand.
 */
async function pinSearchPath(db: Kysely<AnalyticsDatabase>): Promise<void> {
  const { rows } = await sql<{
    schema: string | null;
    quoted: string | null;
    writable: boolean | null;
  }>`select s.schema, pg_catalog.quote_ident(s.schema) as quoted,
            pg_catalog.has_schema_privilege('public', s.schema, 'CREATE') as writable
     from (select coalesce(
       (select n.nspname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.oid = pg_catalog.to_regclass('analytics_schema_version')),
       pg_catalog.current_schema())::text as schema) s`.execute(db);
  const { schema, quoted, writable } = rows[0]!;
  if (schema === null) {
    throw new Error(
      'no schema to create the tables in: the search_path names none that exists (set one with ?options=-csearch_path%3D<schema>)',
    );
  }
  if (writable) {
    throw new Error(
      `schema ${quoted} is writable by every role (PUBLIC may CREATE in it, the default before PostgreSQL 15): ` +
        `any role could then run code as the owner of the tables. Run \`REVOKE CREATE ON SCHEMA ${quoted} FROM PUBLIC\` ` +
        `as the owner of the schema (or keep the tables in a schema of their own), then migrate again`,
    );
  }
  const searchPath = sql`pg_catalog.format('%I, pg_temp', ${schema}::text)`;
  await sql`select pg_catalog.set_config('search_path', ${searchPath}, true)`.execute(db);
}

const SCHEMA_PRESENT = sql<{ present: boolean }>`
  select to_regclass('analytics_schema_version') is not null as present`;

/** The recorded schema version, 0 when the schema was never applied. */
export async function currentVersion(db: Kysely<AnalyticsDatabase>): Promise<number> {
  const exists = await SCHEMA_PRESENT.execute(db);
  if (!exists.rows[0]?.present) return 0;
  const result = await db
    .selectFrom('analytics_schema_version')
    .select((eb) => eb.fn.max('version').as('version'))
    .executeTakeFirst();
  return result?.version ?? 0;
}

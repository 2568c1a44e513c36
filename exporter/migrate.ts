import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The schema version schema.sql creates. */
export const SCHEMA_VERSION = 5;

/** What {@link migrate} did. */
export interface MigrationResult {
  /** Version before (0: no schema). */
  from: number;
  /** Version after. */
  to: number;
  /** Files applied, in order. */
  applied: string[];
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
 * an older one gets each migration after its version, in order. Runs in one transaction under
 * an advisory lock, so concurrent runs are safe and a failed run changes nothing. Needs the
 * owner role (it creates tables), never the exporter's INSERT-only role.
 */
export async function migrate(connectionString: string): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString, application_name: 'otel-pg-analytics migrate' });
  await client.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [LOCK_KEY]);
    const from = await currentVersion(client);
    if (from > SCHEMA_VERSION) {
      throw new Error(
        `the database schema is at version ${from}, newer than this package supports (${SCHEMA_VERSION}): upgrade otel-pg-analytics`,
      );
    }
    const applied: string[] = [];
    if (from === 0) {
      await client.query(readSchemaSql());
      applied.push('schema.sql');
    } else {
      for (const migration of listMigrations()) {
        if (migration.version <= from || migration.version > SCHEMA_VERSION) continue;
        await client.query(readFileSync(migration.file, 'utf8'));
        applied.push(path.basename(migration.file));
      }
    }
    const to = await currentVersion(client);
    // Every run keeps the daily partitions a week ahead: a daily `migrate` is upkeep enough.
    const created = await client.query<{ n: number }>(
      'select count(*)::int as n from analytics_ensure_partitions()',
    );
    await client.query('commit');
    if (created.rows[0]!.n > 0 && applied.length === 0)
      applied.push(`${created.rows[0]!.n} daily partition(s)`);
    return { from, to, applied };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The part of a `pg` client {@link currentVersion} uses (structural, so no `pg` types leak). */
export interface QueryableLike {
  query<R extends object>(text: string): Promise<{ rows: R[] }>;
}

/** The recorded schema version, 0 when the schema was never applied. */
export async function currentVersion(client: QueryableLike): Promise<number> {
  const exists = await client.query<{ present: boolean }>(
    "select to_regclass('analytics_schema_version') is not null as present",
  );
  if (!exists.rows[0]?.present) return 0;
  const result = await client.query<{ version: number | null }>(
    'select max(version) as version from analytics_schema_version',
  );
  return result.rows[0]?.version ?? 0;
}

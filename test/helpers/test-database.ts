import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../admin/migrate.js';
import { migrateRoles } from '../../admin/migrate-roles.js';

/** A database of one test file's own, on the test server. */
export interface TestDatabase {
  /** As the superuser (who owns the tables). */
  url: string;
  /**
   * As an INSERT-only writer of `migrate --roles` (with `writer: true`), the role apps should
   * use; otherwise the superuser's `url`.
   */
  writerUrl: string;
  name: string;
  /** Runs a query on the test database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]>;
  /** Drops the database (connections are cut). */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database named after `label` (with the schema applied unless
 * `schema: false`), so test files never see each other's rows.
 */
export async function createTestDatabase(
  label: string,
  options: { schema?: boolean; writer?: boolean } = {},
): Promise<TestDatabase> {
  const admin = inject('adminDatabaseUrl');
  const name = `pga_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withClient(admin, (client) => client.query(`create database ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  if (options.schema !== false) await migrate(databaseUrl);
  // Roles are cluster-wide: named after the database, dropped with it.
  const roles = options.writer ? [`${name}_w`, `${name}_r`] : [];
  let writerUrl = databaseUrl;
  if (options.writer) {
    const password = randomBytes(9).toString('base64url');
    await migrateRoles(databaseUrl, { writerRole: roles[0], readerRole: roles[1], writerPassword: password });
    const writer = new URL(databaseUrl);
    writer.username = roles[0]!;
    writer.password = password;
    writerUrl = writer.toString();
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // `drop database ... with (force)` cuts connections still closing; that is expected here.
  pool.on('error', () => {});
  return {
    url: databaseUrl,
    writerUrl,
    name,
    async query(text, values) {
      const result = await pool.query(text, values);
      return result.rows;
    },
    async drop() {
      if (roles.length > 0) await pool.query(`drop owned by ${roles.join(', ')}`);
      await pool.end();
      await withClient(admin, async (client) => {
        await client.query(`drop database if exists ${name} with (force)`);
        for (const role of roles) await client.query(`drop role if exists ${role}`);
      });
    },
  };
}

/** Runs `fn` on a connection of its own to `url`, closed after. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

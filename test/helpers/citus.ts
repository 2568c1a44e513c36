import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

/**
 * The Citus coordinator the Citus suite runs against (`TEST_CITUS_URL`), or `undefined`.
 * CI cannot build Citus, so there the suite is skipped, with {@link CITUS_SKIP_REASON}.
 */
export const CITUS_URL: string | undefined = process.env.TEST_CITUS_URL || undefined;

/** The one line a skipped Citus suite gives. */
export const CITUS_SKIP_REASON =
  'Citus suite skipped: set TEST_CITUS_URL to a Citus coordinator (it is built from source, which CI cannot do; docs/citus.md)';

/**
 * A Citus suite: `describe(name, body)` when {@link CITUS_URL} is set; otherwise one skipped
 * test whose name says why, so a run without Citus reports one line per file, not every test.
 */
export function describeCitus(name: string, body: () => void): void {
  if (CITUS_URL !== undefined) describe(name, body);
  else describe(name, () => it.skip(CITUS_SKIP_REASON, () => {}));
}

/** A schema of one test file's own on the Citus coordinator. */
export interface CitusSchema {
  /** The coordinator's URL with this schema first on the search path (owner: the URL's user). */
  url: string;
  schema: string;
  /** Runs a query in the schema. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]>;
  /** Drops the schema and everything in it, on every node. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh schema named after `label` on the coordinator at {@link CITUS_URL}: test
 * files share the `citus` database (its workers would need any other database too), never
 * each other's tables. Nothing is created in it: the test runs `migrate` on `url` itself.
 */
export async function createCitusSchema(label: string): Promise<CitusSchema> {
  if (CITUS_URL === undefined) throw new Error(CITUS_SKIP_REASON);
  const schema = `pga_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = new URL(CITUS_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => {});
  await pool.query(`create schema ${schema}`);
  return {
    url: url.toString(),
    schema,
    async query(text, values) {
      const result = await pool.query(text, values);
      return result.rows;
    },
    async drop() {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    },
  };
}

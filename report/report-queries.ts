import type { Kysely, RawBuilder } from 'kysely';
import type pg from 'pg';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { createKysely } from '../database/create-kysely.js';
import type { ReportTable } from './report-data.js';

/** Runs a report's queries on one client (inside the report's transaction). */
export class ReportQueries {
  readonly #client: pg.ClientBase;
  readonly #db: Kysely<AnalyticsDatabase>;

  constructor(client: pg.ClientBase) {
    this.#client = client;
    this.#db = createKysely({ client });
  }

  /** The query's rows as objects. */
  async rows(query: RawBuilder<unknown>): Promise<Record<string, unknown>[]> {
    return (await (query as RawBuilder<Record<string, unknown>>).execute(this.#db)).rows;
  }

  /**
   * The query's result as a table. Run on the client itself, in arrays: that keeps the column
   * names (and their order) also when no row comes back.
   */
  async table(query: RawBuilder<unknown>): Promise<ReportTable> {
    const { sql: text, parameters } = query.compile(this.#db);
    const result = await this.#client.query<unknown[]>({ text, values: [...parameters], rowMode: 'array' });
    return reportTable(
      result.fields.map((f) => f.name),
      result.rows,
    );
  }
}

/** A table of `rows` (values as pg returns them) shown as {@link ReportQueries.table} shows them. */
export function reportTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): ReportTable {
  return { columns, rows: rows.map((row) => row.map(display)) };
}

/** A cell as shown: numbers stay numbers; times as ISO strings without milliseconds. */
function display(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return JSON.stringify(value);
}

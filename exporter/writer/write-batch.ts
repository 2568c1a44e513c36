import { sql, type Kysely } from 'kysely';
import { TABLE_COLUMNS, type TableName } from '../../database/analytics-database.js';

/**
 * Inserts rows into one table with a single statement that binds the whole batch as one JSON
 * parameter and expands it with `json_to_recordset`. The parameter count stays at one whatever
 * the batch size (multi-row VALUES fails past 65,535 parameters, with a connection-class
 * SQLSTATE), and the app's CPU per row is one native `JSON.stringify`: binding one array per
 * column (the earlier `unnest` form) had `pg` escape every element in JavaScript, which
 * profiled as the exporter's largest cost. `ON CONFLICT DO NOTHING` without a target makes a
 * retried batch harmless and needs only INSERT privilege. Returns the number of rows inserted,
 * counted from `RETURNING` in the statement itself: on Citus the INSERT ... SELECT runs through
 * the coordinator and its command tag gives the rows it was given, skipped ones included
 * (citusdata/citus#3377); the count costs nothing measurable on one PostgreSQL either.
 */
export async function writeBatch(
  db: Kysely<unknown>,
  table: TableName,
  rows: readonly object[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = TABLE_COLUMNS[table];
  const names = columns.map((column) => sql.ref(column.name));
  const definitions = columns.map((column) => sql`${sql.ref(column.name)} ${sql.raw(column.type)}`);
  const selected = columns.map((column) =>
    column.jsonb ? sql`${sql.ref(`u.${column.name}`)}::jsonb` : sql.ref(`u.${column.name}`),
  );
  const result = await sql<{ inserted: number }>`
    with written as (
      insert into ${sql.table(table)} (${sql.join(names)})
      select ${sql.join(selected)}
      from json_to_recordset(${JSON.stringify(rows)}::json) as u(${sql.join(definitions)})
      on conflict do nothing
      returning 1
    )
    select count(*)::int as inserted from written
  `.execute(db);
  return result.rows[0]?.inserted ?? 0;
}

import { sql, type Kysely } from 'kysely';
import { TABLE_COLUMNS, type TableName } from './database.js';

/**
 * Inserts rows into one table with a single statement that binds one array per column and
 * expands them with `unnest`: the parameter count stays at the column count whatever the batch
 * size (multi-row VALUES fails past 65,535 parameters, with a connection-class SQLSTATE), and
 * it measured about twice as fast. `ON CONFLICT DO NOTHING` without a target makes a retried
 * batch harmless and needs only INSERT privilege. Returns the number of rows inserted.
 */
export async function writeBatch(
  db: Kysely<unknown>,
  table: TableName,
  rows: readonly object[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = TABLE_COLUMNS[table];
  const arrays = columns.map((column) => {
    const values = rows.map((row) => (row as Record<string, unknown>)[column.name] ?? null);
    return sql`${values}::${sql.raw(column.type)}[]`;
  });
  const names = columns.map((column) => sql.ref(column.name));
  const selected = columns.map((column) =>
    column.jsonb ? sql`${sql.ref(`u.${column.name}`)}::jsonb` : sql.ref(`u.${column.name}`),
  );
  const result = await sql`
    insert into ${sql.table(table)} (${sql.join(names)})
    select ${sql.join(selected)}
    from unnest(${sql.join(arrays)}) as u(${sql.join(names)})
    on conflict do nothing
  `.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';

/**
 * A statement whose names and password come from data, built by the server's `format()`
 * (`%I` quotes an identifier, `%L` a literal) from values that travel as bound parameters, so
 * no quoting of ours can be wrong, and the quoting follows the server's own rules
 * (standard_conforming_strings, encoding) rather than a client's assumptions about them. DDL
 * cannot take bind parameters itself, hence the round trip. `%s` is only ever given text that
 * was itself quoted by `format('%I')`. `shown` is the statement with `secret` as `'***'`.
 */
export async function formatStatement(
  db: Kysely<AnalyticsDatabase>,
  template: string,
  args: readonly string[],
  secret?: string,
): Promise<{ statement: string; shown: string }> {
  const { rows } = await sql<{ statement: string; shown: string }>`
    select format(${template}::text, variadic ${args}::text[]) as statement,
           format(${template}::text, variadic array_replace(${args}::text[], ${secret ?? null}::text, '***'))
             as shown`.execute(db);
  return rows[0]!;
}

/** `schema.table, ...`, each name quoted by the server's `format('%I')`. */
export async function qualifyTables(
  db: Kysely<AnalyticsDatabase>,
  schema: string,
  tables: readonly string[],
): Promise<string> {
  const { rows } = await sql<{ list: string }>`
    select string_agg(format('%I.%I', ${schema}::text, t.name), ', ' order by t.position) as list
    from unnest(${tables}::text[]) with ordinality as t(name, position)`.execute(db);
  return rows[0]!.list;
}

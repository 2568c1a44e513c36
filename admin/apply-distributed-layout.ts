import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';

/** The files of the distributed layout, in the order they are applied, under migrations/. */
const LAYOUT_FILES = ['citus/layout.sql', 'citus/rollups.sql'];

/**
 * Applies the distributed layout (migrations/citus/layout.sql, then rollups.sql when present)
 * in `db`'s transaction, after schema.sql and the migrations, with the search_path pinned to the
 * tables' schema. Both are idempotent and run on every `migrate` of a distributed database.
 * When `distributing` (the log tables were not distributed before this run), every row there is
 * was rolled up by the triggers layout.sql has just dropped: the incremental rollup then starts
 * after the last id (`analytics_rollup_start_at_current()`), so none is counted twice. Returns
 * the files applied when distributing (none on a run that found the layout in place).
 */
export async function applyDistributedLayout(
  db: Kysely<AnalyticsDatabase>,
  { root, distributing }: { root: string; distributing: boolean },
): Promise<string[]> {
  const applied: string[] = [];
  for (const file of LAYOUT_FILES) {
    const full = path.join(root, 'migrations', file);
    if (!existsSync(full)) continue;
    await sql.raw(readFileSync(full, 'utf8')).execute(db);
    applied.push(file);
  }
  if (distributing && (await hasStartAtCurrent(db))) {
    await sql`select analytics_rollup_start_at_current()`.execute(db);
  }
  return distributing ? applied : [];
}

async function hasStartAtCurrent(db: Kysely<AnalyticsDatabase>): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`
    select pg_catalog.to_regprocedure('analytics_rollup_start_at_current()') is not null as present`.execute(
    db,
  );
  return rows[0]?.present === true;
}

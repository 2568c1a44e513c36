import { sql, type Kysely } from 'kysely';
import { normalizeUserId } from '../src/privacy/normalize-user-id.js';
import { pseudonymizeUserId } from '../src/privacy/pseudonymize.js';
import { TABLE_COLUMNS, type AnalyticsDatabase, type TableName } from '../database/analytics-database.js';
import { createKysely } from '../database/create-kysely.js';
import { sanitizeText, TEXT_LIMITS } from '../database/sanitize.js';
import { withTransaction } from '../database/with-transaction.js';
import { adjustRollups, lockRollupWatermarks } from './roll-up.js';

/**
 * Top-level `metadata` keys that name a user, removed by `forget --anonymize`. The exporter
 * itself puts none there (the user goes in `user_id`), but apps pass their own metadata to
 * `recordAuthEvent`, and these are the names such details usually go under.
 */
export const DEFAULT_USER_METADATA_KEYS: readonly string[] = Object.freeze([
  'email',
  'user_email',
  'username',
  'user_name',
  'user',
  'user_id',
  'userId',
  'name',
  'full_name',
  'phone',
  'phone_number',
]);

/** Options of {@link forget}. */
export interface ForgetOptions {
  /** The user's id, as the app passed it to `setUser` / `recordAuthEvent`. */
  userId: string;
  /** The HMAC key of `OTEL_ANALYTICS_USER_ID_MODE=hmac`: the user's pseudonym is matched too. */
  hmacKey?: string;
  /** Keep the rows, with `user_id` null and {@link DEFAULT_USER_METADATA_KEYS} removed from `metadata`. */
  anonymize?: boolean;
  /** Count the rows only; change nothing. */
  dryRun?: boolean;
}

/** What {@link forget} found, and did, per table. */
export interface ForgetResult {
  action: 'deleted' | 'anonymized' | 'counted';
  /** Whether the user's pseudonym was matched too (an HMAC key was given). */
  matchedPseudonym: boolean;
  tables: { table: TableName; rows: number }[];
}

/** The tables with a `user_id` column. */
const USER_TABLES = (Object.keys(TABLE_COLUMNS) as TableName[]).filter((table) =>
  TABLE_COLUMNS[table].some((column) => column.name === 'user_id'),
);

/**
 * Erases one user from the log tables, for a data-subject request: deletes their rows (the
 * default) or, with `anonymize`, keeps them for the aggregates with `user_id` set to null and
 * user-naming `metadata` keys removed. Matches the id as the exporter stores it (cleaned and
 * capped the same way) and, given the HMAC key, its pseudonym, so it works whichever
 * `OTEL_ANALYTICS_USER_ID_MODE` the rows were written under. One transaction: all tables or
 * none. Values travel only as bound parameters. Needs DELETE (or UPDATE) on the tables: the
 * owner role.
 *
 * ```ts
 * const result = await forget(url, { userId: 'alice@example.com', hmacKey: process.env.OTEL_ANALYTICS_HMAC_KEY });
 * ```
 */
export async function forget(connectionString: string, options: ForgetOptions): Promise<ForgetResult> {
  const stored = sanitizeText(options.userId, TEXT_LIMITS.indexed);
  if (stored === null || stored.length === 0) throw new Error('forget needs a non-empty user id');
  const ids = new Set([stored]);
  const matchedPseudonym = options.hmacKey !== undefined && options.hmacKey.length > 0;
  if (matchedPseudonym) {
    // The pseudonym of the id as the app's helpers normalize it before pseudonymizing (trimmed,
    // cut), as given, and as stored when cleaning changed it.
    const normalized = normalizeUserId(options.userId);
    if (normalized !== undefined) ids.add(pseudonymizeUserId(normalized, options.hmacKey!));
    ids.add(pseudonymizeUserId(options.userId, options.hmacKey!));
    ids.add(pseudonymizeUserId(stored, options.hmacKey!));
  }
  const action = options.dryRun ? 'counted' : options.anonymize ? 'anonymized' : 'deleted';
  const tables = await withTransaction(
    { connectionString, applicationName: 'otel-pg-analytics forget' },
    async (client) => {
      const db = createKysely({ client });
      // Rows rolled up by a scheduled roll-up (no triggers) leave the rollups with the rows.
      const rolledUpIncrementally = action === 'deleted' && (await lockRollupWatermarks(db));
      const found: ForgetResult['tables'] = [];
      for (const table of USER_TABLES) {
        if (rolledUpIncrementally)
          await adjustRollups(db, table, -1, sql<boolean>`user_id = any(${[...ids]}::text[])`);
        found.push({ table, rows: await forgetIn(db, table, [...ids], action) });
      }
      return found;
    },
    // A dry run that the server itself keeps from writing.
    { readOnly: action === 'counted' },
  );
  return { action, matchedPseudonym, tables };
}

/** Counts, anonymizes or deletes the rows of `ids` in one table; returns how many. */
async function forgetIn(
  db: Kysely<AnalyticsDatabase>,
  table: TableName,
  ids: string[],
  action: ForgetResult['action'],
): Promise<number> {
  if (action === 'counted') {
    const counted = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('rows'))
      .where('user_id', 'in', ids)
      .executeTakeFirst();
    return Number(counted?.rows ?? 0);
  }
  if (action === 'anonymized') {
    // Changes no column the rollups read (user_id and user-naming metadata keys are none of
    // them), so rollups kept without triggers need no adjusting.
    const updated = await db
      .updateTable(table)
      .set({
        user_id: null,
        metadata: sql<string | null>`case when jsonb_typeof(metadata) = 'object'
          then nullif(metadata - ${DEFAULT_USER_METADATA_KEYS}::text[], '{}'::jsonb) else metadata end`,
      })
      .where('user_id', 'in', ids)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows);
  }
  const deleted = await db.deleteFrom(table).where('user_id', 'in', ids).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

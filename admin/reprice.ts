import { sql, type Kysely } from 'kysely';
import { estimateCost } from '../src/pricing/estimate-cost.js';
import { DEFAULT_MODEL_PRICES, PriceTable, type ModelPrice } from '../src/pricing/price-table.js';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import { callUsageOfMetadata } from '../database/call-usage-of-metadata.js';
import { createKysely } from '../database/create-kysely.js';
import { withClient } from '../database/with-client.js';
import { adjustRollups, lockRollupWatermarks } from './roll-up.js';

/** Options of {@link reprice}. */
export interface RepriceOptions {
  /** First call to reprice (inclusive). */
  since: Date;
  /** Calls before this only (exclusive); defaults to now. */
  until?: Date;
  /** Write the new costs; without it nothing changes (a dry run). */
  apply?: boolean;
  /** Price rows added to (and overriding) the built-in table, as in the `modelPrices` option. */
  modelPrices?: readonly ModelPrice[];
}

/** What {@link reprice} found, and did. */
export interface RepriceSummary {
  /** Calls with token usage in the range. */
  rows: number;
  /** Calls whose cost changes. */
  changed: number;
  /** Sum of the costs before and after, USD (unknown costs count as 0). */
  totalBefore: number;
  totalAfter: number;
  /** Calls with no known cost before, and after. */
  unknownBefore: number;
  unknownAfter: number;
  /** Models still without a price, with how many calls each. */
  unknownModels: Record<string, number>;
  applied: boolean;
}

const PAGE = 2000;

/**
 * Recomputes `cost_estimate` of past external calls from their stored token usage and the
 * current price table (so a price added or corrected later applies to calls already made, at
 * the rate in force when each was made). A dry run unless `apply`; applied, it updates changed
 * rows in pages, and records the table version and source used in `metadata`. Needs UPDATE on
 * `external_api_call_log` (the owner role).
 */
export async function reprice(connectionString: string, options: RepriceOptions): Promise<RepriceSummary> {
  const table = new PriceTable([...DEFAULT_MODEL_PRICES, ...(options.modelPrices ?? [])]);
  const until = options.until ?? new Date();
  const summary: RepriceSummary = {
    rows: 0,
    changed: 0,
    totalBefore: 0,
    totalAfter: 0,
    unknownBefore: 0,
    unknownAfter: 0,
    unknownModels: {},
    applied: options.apply === true,
  };
  await withClient({ connectionString, applicationName: 'otel-pg-analytics reprice' }, async (client) => {
    const db = createKysely({ client });
    // `time::text` must read back as the same instant whatever the server's defaults.
    await sql`set datestyle = 'ISO'; set timezone = 'UTC'`.execute(db);
    // The cursor and the update key carry `time` as Postgres prints it: a JS Date keeps only
    // milliseconds, and rows are stored to the microsecond, so a Date would never match again.
    let after: { time: string; id: string } | undefined;
    for (;;) {
      const page = await readPage(db, options.since, until, after);
      if (page.length === 0) break;
      const updates: Update[] = [];
      for (const row of page) {
        const update = repriceRow(row, table, summary);
        if (update !== undefined) updates.push(update);
      }
      if (options.apply && updates.length > 0) await applyUpdates(db, updates);
      const last = page.at(-1)!;
      after = { time: last.time_text, id: last.id };
    }
  });
  summary.totalBefore = round(summary.totalBefore);
  summary.totalAfter = round(summary.totalAfter);
  return summary;
}

/** A call with stored usage, as read for repricing. */
interface UsageRow {
  id: string;
  time: Date;
  /** `time` as Postgres printed it (microseconds kept). */
  time_text: string;
  status_code: number | null;
  cost: string | null;
  metadata: Record<string, unknown>;
}

/** The next page of calls with token usage in `[since, until)`, after the `after` key. */
async function readPage(
  db: Kysely<AnalyticsDatabase>,
  since: Date,
  until: Date,
  after: { time: string; id: string } | undefined,
): Promise<UsageRow[]> {
  const rows = await db
    .selectFrom('external_api_call_log')
    .select([
      sql<string>`id::text`.as('id'),
      'time',
      sql<string>`time::text`.as('time_text'),
      'status_code',
      sql<string | null>`cost_estimate::text`.as('cost'),
      'metadata',
    ])
    .where('time', '>=', since)
    .where('time', '<', until)
    .where(sql<boolean>`(metadata ? 'input_tokens' or metadata ? 'output_tokens' or metadata ? 'free')`)
    .$if(after !== undefined, (query) =>
      query.where(sql<boolean>`(time, id) > (${after!.time}::timestamptz, ${after!.id}::bigint)`),
    )
    .orderBy('time')
    .orderBy('id')
    .limit(PAGE)
    .execute();
  // The filter above keeps only rows whose metadata is an object.
  return rows as UsageRow[];
}

/** Prices one call again, counting it in `summary`; the update to make when its cost changed. */
function repriceRow(row: UsageRow, table: PriceTable, summary: RepriceSummary): Update | undefined {
  summary.rows++;
  const before = row.cost === null ? null : Number(row.cost);
  const estimate = estimateCost(
    callUsageOfMetadata(row.metadata),
    undefined,
    row.status_code ?? undefined,
    table,
    row.time,
  );
  summary.totalBefore += before ?? 0;
  summary.totalAfter += estimate.usd ?? 0;
  if (before === null) summary.unknownBefore++;
  if (estimate.usd === null) {
    summary.unknownAfter++;
    const named = row.metadata.response_model ?? row.metadata.request_model;
    const model = typeof named === 'string' ? named : '(none)';
    summary.unknownModels[model] = (summary.unknownModels[model] ?? 0) + 1;
  }
  if (estimate.usd === before) return undefined;
  summary.changed++;
  return {
    id: row.id,
    time: row.time_text,
    cost: estimate.usd,
    metadata: JSON.stringify({
      repriced_at: new Date().toISOString(),
      ...(estimate.usd !== null && { cost_source: 'local' }),
      ...(estimate.model !== undefined && { cost_model: estimate.model }),
      ...(estimate.priceSource !== undefined && { price_source: estimate.priceSource }),
      ...(estimate.priceCheckedAt !== undefined && { price_checked_at: estimate.priceCheckedAt }),
      ...(estimate.priceEffectiveFrom !== undefined && { price_effective_from: estimate.priceEffectiveFrom }),
      ...(estimate.priceTableVersion !== undefined && { price_table_version: estimate.priceTableVersion }),
      ...(estimate.unknownReason !== undefined && { cost_unknown_reason: estimate.unknownReason }),
    }),
  };
}

interface Update {
  id: string;
  /** `time` as Postgres printed it (microseconds kept). */
  time: string;
  cost: number | null;
  metadata: string;
}

/** What the old price said about itself; none of it may survive next to the new one. */
const PRICE_VERDICT_KEYS = [
  'cost_source',
  'cost_model',
  'cost_unknown_reason',
  'price_source',
  'price_checked_at',
  'price_effective_from',
  'price_table_version',
];

async function applyUpdates(db: Kysely<AnalyticsDatabase>, updates: Update[]): Promise<void> {
  // One array per column, joined by position: one statement per page, whatever its size.
  const ids = updates.map((u) => u.id);
  const times = updates.map((u) => u.time);
  const costs = updates.map((u) => u.cost);
  const metadata = updates.map((u) => u.metadata);
  // A page in one transaction: where a scheduled roll-up keeps the rollups (no triggers), the
  // page's rows rolled up already leave them with their old cost and come back with the new.
  await sql`begin`.execute(db);
  try {
    const rolledUpIncrementally = await lockRollupWatermarks(db);
    const page = sql<boolean>`id = any(${ids}::bigint[]) and time = any(${times}::timestamptz[])`;
    if (rolledUpIncrementally) await adjustRollups(db, 'external_api_call_log', -1, page);
    await sql`
      update external_api_call_log t
      set cost_estimate = u.cost,
          metadata = (coalesce(t.metadata, '{}'::jsonb) - ${PRICE_VERDICT_KEYS}::text[]) || u.meta::jsonb
      from unnest(${ids}::bigint[], ${times}::timestamptz[], ${costs}::numeric[], ${metadata}::text[]) as u(id, time, cost, meta)
      where t.id = u.id and t.time = u.time`.execute(db);
    if (rolledUpIncrementally) await adjustRollups(db, 'external_api_call_log', 1, page);
    await sql`commit`.execute(db);
  } catch (error) {
    await sql`rollback`.execute(db).catch(() => undefined);
    throw error;
  }
}

function round(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

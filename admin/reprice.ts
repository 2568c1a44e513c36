import type { Attributes } from '@opentelemetry/api';
import pg from 'pg';
import { estimateCost } from '../src/pricing/estimate-cost.js';
import { DEFAULT_MODEL_PRICES, PriceTable, type ModelPrice } from '../src/pricing/price-table.js';
import { ATTR_ANALYTICS_COST_UNKNOWN_REASON } from '../src/semconv.js';
import { CALL_METADATA_KEYS } from '../database/call-metadata-keys.js';

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
  const client = new pg.Client({ connectionString, application_name: 'otel-pg-analytics reprice' });
  await client.connect();
  try {
    // `time::text` must read back as the same instant whatever the server's defaults.
    await client.query(`set datestyle = 'ISO'; set timezone = 'UTC'`);
    // The cursor and the update key carry `time` as Postgres prints it: a JS Date keeps only
    // milliseconds, and rows are stored to the microsecond, so a Date would never match again.
    let after: { time: string; id: string } | undefined;
    for (;;) {
      const page = await client.query<{
        id: string;
        time: Date;
        time_text: string;
        status_code: number | null;
        cost: string | null;
        metadata: Record<string, unknown>;
      }>(
        `select id::text, time, time::text as time_text, status_code, cost_estimate::text as cost, metadata
         from external_api_call_log
         where time >= $1 and time < $2
           and (metadata ? 'input_tokens' or metadata ? 'output_tokens' or metadata ? 'free')
           and ($3::text is null or (time, id) > ($3::text::timestamptz, $4::bigint))
         order by time, id
         limit ${PAGE}`,
        [options.since, until, after?.time ?? null, after?.id ?? null],
      );
      if (page.rows.length === 0) break;
      const updates: Update[] = [];
      for (const row of page.rows) {
        summary.rows++;
        const before = row.cost === null ? null : Number(row.cost);
        const estimate = estimateCost(
          usageAttributesOf(row.metadata),
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
        if (estimate.usd === before) continue;
        summary.changed++;
        updates.push({
          id: row.id,
          time: row.time_text,
          cost: estimate.usd,
          metadata: JSON.stringify({
            repriced_at: new Date().toISOString(),
            ...(estimate.usd !== null && { cost_source: 'local' }),
            ...(estimate.model !== undefined && { cost_model: estimate.model }),
            ...(estimate.priceSource !== undefined && { price_source: estimate.priceSource }),
            ...(estimate.priceCheckedAt !== undefined && { price_checked_at: estimate.priceCheckedAt }),
            ...(estimate.priceEffectiveFrom !== undefined && {
              price_effective_from: estimate.priceEffectiveFrom,
            }),
            ...(estimate.priceTableVersion !== undefined && {
              price_table_version: estimate.priceTableVersion,
            }),
            ...(estimate.unknownReason !== undefined && { cost_unknown_reason: estimate.unknownReason }),
          }),
        });
      }
      if (options.apply && updates.length > 0) await applyUpdates(client, updates);
      const last = page.rows.at(-1)!;
      after = { time: last.time_text, id: last.id };
    }
  } finally {
    await client.end();
  }
  summary.totalBefore = round(summary.totalBefore);
  summary.totalAfter = round(summary.totalAfter);
  return summary;
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

async function applyUpdates(client: pg.Client, updates: Update[]): Promise<void> {
  await client.query(
    `update external_api_call_log t
     set cost_estimate = u.cost,
         metadata = (coalesce(t.metadata, '{}'::jsonb) - $5::text[]) || u.meta::jsonb
     from unnest($1::bigint[], $2::text[], $3::numeric[], $4::text[]) as u(id, time, cost, meta)
     where t.id = u.id and t.time = u.time::timestamptz`,
    [
      updates.map((u) => u.id),
      updates.map((u) => u.time),
      updates.map((u) => u.cost),
      updates.map((u) => u.metadata),
      PRICE_VERDICT_KEYS,
    ],
  );
}

/** The span attributes a stored row's metadata stands for (as the row mapping wrote them). */
function usageAttributesOf(metadata: Record<string, unknown>): Attributes {
  const attributes: Attributes = {};
  for (const [attribute, key] of Object.entries(CALL_METADATA_KEYS)) {
    const value = metadata[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      attributes[attribute] = value;
  }
  // The old price's verdict must not decide the new one.
  delete attributes[ATTR_ANALYTICS_COST_UNKNOWN_REASON];
  return attributes;
}

function round(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

import type { CallUsage } from './call-usage.js';
import {
  PRICE_TABLE_VERSION,
  PriceTable,
  type ModelPrice,
  type ModelPriceTier,
  type TokenPrices,
} from './price-table.js';
import type { ServiceDefinition } from './service-catalog.js';

/** The cost of one external call, or why none could be given. */
export interface CostEstimate {
  /** USD, or `null` when unknown (never an invented number). */
  usd: number | null;
  /** `per_token`, `per_request`, `per_record`, `subscription` or `free`. */
  model?: string;
  /** Why `usd` is null, when it is for a reason worth recording. */
  unknownReason?: string;
  priceSource?: string;
  priceCheckedAt?: string;
  priceEffectiveFrom?: string;
  priceTableVersion?: string;
}

/** Gen AI token usage as OTel counts it: input includes cache reads and writes, output reasoning. */
export interface TokenCounts {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  cacheWrite1h: number;
  output: number;
}

const PER_MILLION = 1_000_000;

/**
 * Estimates the cost of an external call: from the token usage it reported (read from the
 * response), priced by the model that answered at the rate in force at `at` and for the service
 * tier it reported; an LLM call answered with an error status and no usage at 0; else from the
 * service's per-record or per-request price. A call whose price is not known gets `null` and the
 * reason, never a guess.
 */
export function estimateCost(
  usage: CallUsage,
  service: ServiceDefinition | undefined,
  statusCode: number | undefined,
  prices: PriceTable,
  at: Date,
): CostEstimate {
  if (usage.free === true) return { usd: 0, model: 'free' };
  const tokens = tokenCountsOf(usage);
  if (tokens) {
    const model = usage.responseModel ?? usage.requestModel;
    if (model === undefined) return { usd: null, unknownReason: 'no_model' };
    const row = prices.find(model, at);
    if (!row) return { usd: null, unknownReason: 'unknown_model' };
    const priced = PriceTable.pricesFor(row, usage.serviceTier, usage.provider);
    if (!priced) return { usd: null, unknownReason: 'unpriced_service_tier' };
    return {
      usd: priceTokens(tokens, priced.prices, priced.tiers),
      model: 'per_token',
      priceTableVersion: PRICE_TABLE_VERSION,
      ...describeRow(row),
    };
  }
  const succeeded = statusCode !== undefined && statusCode >= 200 && statusCode < 300;
  // An LLM API bills the tokens it reports; an attempt it refused, rate-limited or failed
  // (4xx, 5xx) reports none and is not billed, so a retried call costs what its last attempt did.
  if (statusCode !== undefined && statusCode >= 400 && usage.provider !== undefined) {
    return { usd: 0, model: 'per_token' };
  }
  if (service?.perRecordUsd !== undefined) {
    if (!succeeded) return { usd: 0, model: 'per_record' };
    if (usage.records === undefined) {
      return { usd: null, unknownReason: usage.unknownReason ?? 'record_count_unknown' };
    }
    return { usd: Math.round(usage.records * service.perRecordUsd * 1e8) / 1e8, model: 'per_record' };
  }
  if (usage.unknownReason !== undefined) return { usd: null, unknownReason: usage.unknownReason };
  if (service?.perRequestUsd !== undefined) {
    return { usd: succeeded ? service.perRequestUsd : 0, model: service.costModel ?? 'per_request' };
  }
  if (service?.costModel === 'subscription') return { usd: 0, model: 'subscription' };
  return { usd: null };
}

/**
 * USD for token counts at `prices`; a long-context tier replaces the prices of every token of
 * the call once its input (cache reads and writes included) passes the tier's threshold.
 * Rounded to the 8 decimals `numeric(14,8)` keeps, so span, row and reprice agree.
 */
export function priceTokens(
  usage: TokenCounts,
  prices: TokenPrices,
  tiers?: readonly ModelPriceTier[],
): number {
  let rates = prices;
  for (const tier of tiers ?? []) if (usage.input > tier.aboveInputTokens) rates = tier;
  const cacheRead = Math.min(usage.cacheRead, usage.input);
  const cacheWrite = Math.min(usage.cacheWrite, usage.input - cacheRead);
  const cacheWrite1h = Math.min(usage.cacheWrite1h, cacheWrite);
  const writePrice = rates.cacheWritePerMillion ?? rates.inputPerMillion;
  const cost =
    (usage.input - cacheRead - cacheWrite) * rates.inputPerMillion +
    cacheRead * (rates.cachedInputPerMillion ?? rates.inputPerMillion) +
    (cacheWrite - cacheWrite1h) * writePrice +
    cacheWrite1h * (rates.cacheWrite1hPerMillion ?? writePrice) +
    usage.output * rates.outputPerMillion;
  return Math.round((cost / PER_MILLION) * 1e8) / 1e8;
}

function describeRow(row: ModelPrice): Partial<CostEstimate> {
  return {
    ...(row.source !== undefined && { priceSource: row.source }),
    ...(row.checkedAt !== undefined && { priceCheckedAt: row.checkedAt }),
    ...(row.effectiveFrom !== undefined && { priceEffectiveFrom: row.effectiveFrom }),
  };
}

/** The token counts to price, when the call reported input or output tokens. */
function tokenCountsOf(usage: CallUsage): TokenCounts | undefined {
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return undefined;
  return {
    input: usage.inputTokens ?? 0,
    output: usage.outputTokens ?? 0,
    cacheRead: usage.cacheReadTokens ?? 0,
    cacheWrite: usage.cacheWriteTokens ?? 0,
    cacheWrite1h: usage.cacheWrite1hTokens ?? 0,
  };
}

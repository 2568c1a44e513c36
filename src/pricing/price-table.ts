import defaultPrices from './model-prices.json' with { type: 'json' };

/** Prices in USD per million tokens; cache prices default to the input price. */
export interface TokenPrices {
  inputPerMillion: number;
  /** Input tokens served from a cache. */
  cachedInputPerMillion?: number;
  /** Input tokens written to a cache (Anthropic: kept 5 minutes). */
  cacheWritePerMillion?: number;
  /** Input tokens written to a cache kept an hour (Anthropic); defaults to `cacheWritePerMillion`. */
  cacheWrite1hPerMillion?: number;
  /** Output, reasoning/thinking tokens included. */
  outputPerMillion: number;
}

/** Prices that apply to the whole call when its input exceeds a token count (long context). */
export interface ModelPriceTier extends TokenPrices {
  aboveInputTokens: number;
}

/** The price of one model from a date on, in USD per million tokens. */
export interface ModelPrice extends TokenPrices {
  /** Model id as providers return it, without version suffix (`gemini-2.5-flash`). */
  model: string;
  /** OTel `gen_ai.provider.name`; selects the service-tier multipliers. */
  provider?: string;
  /** ISO date the price applies from; omitted means "from the start". */
  effectiveFrom?: string;
  /** Long-context tiers, by prompt size. */
  tiers?: ModelPriceTier[];
  /** Prices for a service tier the response reports (`priority`...), replacing the standard ones. */
  serviceTiers?: Record<string, TokenPrices>;
  /** Where the price was read, and when. */
  source?: string;
  checkedAt?: string;
  note?: string;
}

/** The built-in price rows shipped with the package. */
export const DEFAULT_MODEL_PRICES: readonly ModelPrice[] = Object.freeze(
  defaultPrices.models as ModelPrice[],
);
/** Version of the built-in price table. */
export const PRICE_TABLE_VERSION: string = defaultPrices.version;
/**
 * Multipliers of the standard prices for service tiers the responses report, by provider
 * (OpenAI flex and batch, Gemini batch and flex, Anthropic batch: half price).
 */
export const DEFAULT_SERVICE_TIER_MULTIPLIERS: Readonly<Record<string, Readonly<Record<string, number>>>> =
  Object.freeze(defaultPrices.serviceTierMultipliers);
/** Tier names that mean "the standard price". */
const STANDARD_TIERS = new Set(['default', 'standard', 'auto', 'on_demand', 'ondemand', 'pay_as_you_go']);

const PROVIDER_PREFIX =
  /^(?:models\/|publishers\/[^/]+\/models\/|google\/|openai\/|anthropic\/|(?:us\.|eu\.|apac\.|global\.)?anthropic\.)/;
const VERSION_SUFFIX =
  /(?:-\d{3}|-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-preview-\d{2}-\d{2,4}|-v\d+(?::\d+)?)$/;

/**
 * Looks up model prices: by exact id, then by the id without provider prefix and dated or
 * numbered version suffix (`gpt-4o-2024-08-06` → `gpt-4o`). A row applies from its
 * `effectiveFrom` date until the next row for the same model, so a call is priced at the rate
 * in force when it was made.
 */
export class PriceTable {
  readonly #rows = new Map<string, ModelPrice[]>();

  /**
   * Later rows override earlier ones: a dated row replaces the row of the same model and date,
   * an undated row (a price for all time) replaces every earlier row of its model.
   */
  constructor(rows: readonly ModelPrice[]) {
    for (const row of rows) {
      const key = row.model.toLowerCase();
      const list = row.effectiveFrom === undefined ? [] : (this.#rows.get(key) ?? []);
      const same = list.findIndex((r) => (r.effectiveFrom ?? '') === (row.effectiveFrom ?? ''));
      if (same === -1) list.push(row);
      else list[same] = row;
      list.sort((a, b) => (a.effectiveFrom ?? '').localeCompare(b.effectiveFrom ?? ''));
      this.#rows.set(key, list);
    }
  }

  /**
   * The prices for a call to a model under the service tier its response reported: the row's
   * own tier prices, else the standard ones (long-context tiers included) times the tier
   * multiplier of the provider that served the call (`provider`, else the row's: the same
   * model can be sold by several); `undefined` when the tier has no known price (never a guess).
   */
  static pricesFor(
    row: ModelPrice,
    serviceTier: string | undefined,
    provider?: string,
  ): { prices: TokenPrices; tiers?: readonly ModelPriceTier[] } | undefined {
    const tier = serviceTier?.toLowerCase();
    if (tier === undefined || STANDARD_TIERS.has(tier)) return { prices: row, tiers: row.tiers };
    const own = row.serviceTiers?.[tier];
    if (own) return { prices: own };
    const multiplier = DEFAULT_SERVICE_TIER_MULTIPLIERS[provider ?? row.provider ?? '']?.[tier];
    if (multiplier === undefined) return undefined;
    return {
      prices: scalePrices(row, multiplier),
      tiers: row.tiers?.map((t) => ({ ...scalePrices(t, multiplier), aboveInputTokens: t.aboveInputTokens })),
    };
  }

  /** The price row for `model` in force at `at`, or `undefined` when the model is unknown. */
  find(model: string, at: Date): ModelPrice | undefined {
    // A span with a broken start time is priced today rather than losing its row.
    const day = (Number.isFinite(at.getTime()) ? at : new Date()).toISOString().slice(0, 10);
    for (const candidate of candidateIds(model)) {
      const list = this.#rows.get(candidate);
      if (!list) continue;
      let match: ModelPrice | undefined;
      for (const row of list) if ((row.effectiveFrom ?? '') <= day) match = row;
      return match;
    }
    return undefined;
  }
}

function scalePrices(prices: TokenPrices, multiplier: number): TokenPrices {
  const scaled: TokenPrices = {
    inputPerMillion: prices.inputPerMillion * multiplier,
    outputPerMillion: prices.outputPerMillion * multiplier,
  };
  if (prices.cachedInputPerMillion !== undefined)
    scaled.cachedInputPerMillion = prices.cachedInputPerMillion * multiplier;
  if (prices.cacheWritePerMillion !== undefined)
    scaled.cacheWritePerMillion = prices.cacheWritePerMillion * multiplier;
  if (prices.cacheWrite1hPerMillion !== undefined)
    scaled.cacheWrite1hPerMillion = prices.cacheWrite1hPerMillion * multiplier;
  return scaled;
}

function candidateIds(model: string): string[] {
  const exact = model.trim().toLowerCase();
  const candidates = [exact];
  let current = exact.replace(PROVIDER_PREFIX, '');
  candidates.push(current);
  // Bedrock ids carry two suffixes (`-20250929-v1:0`): strip up to a few, most specific first.
  for (let i = 0; i < 3; i++) {
    const next = current.replace(VERSION_SUFFIX, '');
    if (next === current || next.length === 0) break;
    candidates.push(next);
    current = next;
  }
  return [...new Set(candidates)];
}

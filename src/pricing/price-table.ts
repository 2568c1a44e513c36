import defaultPrices from './model-prices.json' with { type: 'json' };

/** A price tier that applies when a call's input exceeds a token count (long-context pricing). */
export interface ModelPriceTier {
  aboveInputTokens: number;
  inputPerMillion: number;
  cachedInputPerMillion?: number;
  cacheWritePerMillion?: number;
  outputPerMillion: number;
}

/** The price of one model from a date on, in USD per million tokens. */
export interface ModelPrice {
  /** Model id as providers return it, without version suffix (`gemini-2.5-flash`). */
  model: string;
  provider?: string;
  /** ISO date the price applies from; omitted means "always". */
  effectiveFrom?: string;
  inputPerMillion: number;
  /** Price of input tokens served from a cache; defaults to the input price. */
  cachedInputPerMillion?: number;
  /** Price of input tokens written to a cache; defaults to the input price. */
  cacheWritePerMillion?: number;
  /** Output price; reasoning/thinking tokens are billed as output. */
  outputPerMillion: number;
  tiers?: ModelPriceTier[];
  /** Where the price was read, and when. */
  source?: string;
  checkedAt?: string;
}

/** The built-in price rows shipped with the package. */
export const DEFAULT_MODEL_PRICES: readonly ModelPrice[] = Object.freeze(
  defaultPrices.models as ModelPrice[],
);
/** Version of the built-in price table. */
export const PRICE_TABLE_VERSION: string = defaultPrices.version;

const PROVIDER_PREFIX = /^(?:models\/|publishers\/[^/]+\/models\/|google\/|openai\/|anthropic\/)/;
const VERSION_SUFFIX = /(?:-\d{3}|-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest)$/;

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

function candidateIds(model: string): string[] {
  const exact = model.trim().toLowerCase();
  const unprefixed = exact.replace(PROVIDER_PREFIX, '');
  const base = unprefixed.replace(VERSION_SUFFIX, '');
  return [...new Set([exact, unprefixed, base])];
}

import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '../semconv.js';
import type { ModelPrice, PriceTable } from './price-table.js';
import type { ServiceDefinition } from './service-catalog.js';

/** The cost of one external call, or why none could be given. */
export interface CostEstimate {
  /** USD, or `null` when unknown (never an invented number). */
  usd: number | null;
  /** `per_token`, `per_request` or `subscription`. */
  model?: string;
  /** Why `usd` is null, when it is for a reason worth recording. */
  unknownReason?: string;
  priceSource?: string;
  priceCheckedAt?: string;
}

/** Gen AI token usage as OTel counts it: input includes cache reads and writes, output
 * includes reasoning tokens. */
interface TokenUsage {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

const PER_MILLION = 1_000_000;

/**
 * Estimates the cost of an external call from the span's OTel GenAI usage attributes (priced
 * by the model that answered, at the rate in force at `at`), else from the service's
 * per-request price. Calls that are neither get `null`.
 */
export function estimateCost(
  attributes: Attributes,
  service: ServiceDefinition | undefined,
  statusCode: number | undefined,
  prices: PriceTable,
  at: Date,
): CostEstimate {
  const usage = readUsage(attributes);
  if (usage) {
    const model =
      stringAttribute(attributes, ATTR_GEN_AI_RESPONSE_MODEL) ??
      stringAttribute(attributes, ATTR_GEN_AI_REQUEST_MODEL);
    if (model === undefined) return { usd: null, unknownReason: 'no_model' };
    const price = prices.find(model, at);
    if (!price) return { usd: null, unknownReason: 'unknown_model' };
    return {
      usd: priceTokens(usage, price),
      model: 'per_token',
      ...(price.source !== undefined && { priceSource: price.source }),
      ...(price.checkedAt !== undefined && { priceCheckedAt: price.checkedAt }),
    };
  }
  if (service?.perRequestUsd !== undefined) {
    const succeeded = statusCode !== undefined && statusCode >= 200 && statusCode < 300;
    return {
      usd: succeeded ? service.perRequestUsd : 0,
      model: service.costModel ?? 'per_request',
    };
  }
  if (service?.costModel === 'subscription') return { usd: 0, model: 'subscription' };
  return { usd: null };
}

function priceTokens(usage: TokenUsage, price: ModelPrice): number {
  let rates: Omit<ModelPrice, 'model' | 'tiers'> = price;
  for (const tier of price.tiers ?? []) if (usage.input > tier.aboveInputTokens) rates = tier;
  const cacheRead = Math.min(usage.cacheRead, usage.input);
  const cacheWrite = Math.min(usage.cacheWrite, usage.input - cacheRead);
  const cost =
    (usage.input - cacheRead - cacheWrite) * rates.inputPerMillion +
    cacheRead * (rates.cachedInputPerMillion ?? rates.inputPerMillion) +
    cacheWrite * (rates.cacheWritePerMillion ?? rates.inputPerMillion) +
    usage.output * rates.outputPerMillion;
  // numeric(14,8) keeps 8 decimals; round once here so span and row agree.
  return Math.round((cost / PER_MILLION) * 1e8) / 1e8;
}

function readUsage(attributes: Attributes): TokenUsage | undefined {
  const input = numberAttribute(attributes, ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  const output = numberAttribute(attributes, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  if (input === undefined && output === undefined) return undefined;
  return {
    input: input ?? 0,
    output: output ?? 0,
    cacheRead: numberAttribute(attributes, ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) ?? 0,
    cacheWrite: numberAttribute(attributes, ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS) ?? 0,
  };
}

function numberAttribute(attributes: Attributes, key: string): number | undefined {
  const value = attributes[key];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function stringAttribute(attributes: Attributes, key: string): string | undefined {
  const value = attributes[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

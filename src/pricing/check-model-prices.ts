import { checkNonEmptyString, checkNonNegativeNumber } from '../config/value-checks.js';
import type { ModelPrice } from './price-table.js';

/**
 * Checks the `modelPrices` option (from code or the config file): an array of price rows, each
 * with a model and non-negative input and output prices; `undefined` when any is invalid.
 */
export function checkModelPrices(value: unknown): ModelPrice[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return (value as unknown[]).every(isModelPrice) ? (value as ModelPrice[]) : undefined;
}

function isModelPrice(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const row = value as Record<string, unknown>;
  return (
    checkNonEmptyString(row.model) !== undefined &&
    checkNonNegativeNumber(row.inputPerMillion) !== undefined &&
    checkNonNegativeNumber(row.outputPerMillion) !== undefined &&
    isOptionalPrice(row.cachedInputPerMillion) &&
    isOptionalPrice(row.cacheWritePerMillion) &&
    (row.effectiveFrom === undefined ||
      (typeof row.effectiveFrom === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(row.effectiveFrom))) &&
    (row.source === undefined || typeof row.source === 'string') &&
    (row.checkedAt === undefined || typeof row.checkedAt === 'string') &&
    (row.tiers === undefined || (Array.isArray(row.tiers) && (row.tiers as unknown[]).every(isPriceTier)))
  );
}

function isPriceTier(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    checkNonNegativeNumber(t.aboveInputTokens) !== undefined &&
    checkNonNegativeNumber(t.inputPerMillion) !== undefined &&
    checkNonNegativeNumber(t.outputPerMillion) !== undefined &&
    isOptionalPrice(t.cachedInputPerMillion) &&
    isOptionalPrice(t.cacheWritePerMillion)
  );
}

function isOptionalPrice(value: unknown): boolean {
  return value === undefined || checkNonNegativeNumber(value) !== undefined;
}

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MODEL_PRICES,
  PRICE_TABLE_VERSION,
  PriceTable,
  type ModelPrice,
} from '../../src/pricing/price-table.js';

const table = new PriceTable(DEFAULT_MODEL_PRICES);
/** A day on which every built-in row is in force. */
const NOW = new Date('2026-06-01T12:00:00Z');

function row(model: string, inputPerMillion: number, effectiveFrom?: string): ModelPrice {
  return {
    model,
    inputPerMillion,
    outputPerMillion: inputPerMillion * 2,
    ...(effectiveFrom !== undefined ? { effectiveFrom } : {}),
  };
}

describe('DEFAULT_MODEL_PRICES', () => {
  it('is frozen and versioned', () => {
    expect(Object.isFrozen(DEFAULT_MODEL_PRICES)).toBe(true);
    expect(PRICE_TABLE_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('has well-formed rows', () => {
    expect(DEFAULT_MODEL_PRICES.length).toBeGreaterThan(0);
    for (const price of DEFAULT_MODEL_PRICES) {
      expect(price.model).toMatch(/^[a-z0-9.-]+$/);
      expect(price.inputPerMillion).toBeGreaterThanOrEqual(0);
      expect(price.outputPerMillion).toBeGreaterThanOrEqual(0);
      if (price.effectiveFrom !== undefined) expect(price.effectiveFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});

describe('PriceTable.find', () => {
  it.each(DEFAULT_MODEL_PRICES.map((p) => p.model))(
    'finds the built-in model %s by its exact id',
    (model) => {
      expect(table.find(model, NOW)?.model).toBe(model);
    },
  );

  it.each([
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gemini-2.5-flash-001', 'gemini-2.5-flash'],
    ['gemini-2.5-flash-lite-001', 'gemini-2.5-flash-lite'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['claude-haiku-4-5-latest', 'claude-haiku-4-5'],
    ['models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['models/gemini-2.5-pro-001', 'gemini-2.5-pro'],
    ['publishers/google/models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['GPT-4o', 'gpt-4o'],
    ['  gpt-4o  ', 'gpt-4o'],
  ])('finds %s as %s', (id, model) => {
    expect(table.find(id, NOW)?.model).toBe(model);
  });

  it('prices gemini-2.5-flash-lite as itself, not as gemini-2.5-flash', () => {
    expect(table.find('gemini-2.5-flash-lite', NOW)?.model).toBe('gemini-2.5-flash-lite');
  });

  it('does not price an unknown variant as its family when the variant is not in the table', () => {
    const custom = new PriceTable([row('gemini-2.5-flash', 0.3)]);
    expect(custom.find('gemini-2.5-flash-lite', NOW)).toBeUndefined();
    expect(custom.find('gemini-2.5-flash-lite-001', NOW)).toBeUndefined();
    expect(custom.find('gemini-2.5-flash', NOW)?.inputPerMillion).toBe(0.3);
  });

  it.each(['gpt-9', 'gpt-4', 'claude-imaginary-9', 'llama-3-70b', '', 'models/', 'gpt-4o-mini-tts'])(
    'returns undefined for the unknown model %j',
    (model) => {
      expect(table.find(model, NOW)).toBeUndefined();
    },
  );

  it('prefers an exact row for a dated id over the undated family row', () => {
    const custom = new PriceTable([row('gpt-4o', 2.5), row('gpt-4o-2024-05-13', 5)]);
    expect(custom.find('gpt-4o-2024-05-13', NOW)?.inputPerMillion).toBe(5);
    expect(custom.find('gpt-4o-2024-08-06', NOW)?.inputPerMillion).toBe(2.5);
  });

  it('applies a row from its effective date on', () => {
    const custom = new PriceTable([row('m', 1, '2025-06-01')]);
    expect(custom.find('m', new Date('2025-05-31T23:59:59.999Z'))).toBeUndefined();
    expect(custom.find('m', new Date('2025-06-01T00:00:00.000Z'))?.inputPerMillion).toBe(1);
  });

  it('prices a call on either side of a price change at the rate then in force', () => {
    const custom = new PriceTable([
      row('m', 2, '2025-06-01'),
      row('m', 1, '2025-01-01'),
      row('m', 3, '2026-01-01'),
    ]);
    expect(custom.find('m', new Date('2025-05-31T23:59:59Z'))?.inputPerMillion).toBe(1);
    expect(custom.find('m', new Date('2025-06-01T00:00:00Z'))?.inputPerMillion).toBe(2);
    expect(custom.find('m', new Date('2025-12-31T23:59:59Z'))?.inputPerMillion).toBe(2);
    expect(custom.find('m', new Date('2026-01-01T00:00:00Z'))?.inputPerMillion).toBe(3);
  });

  it('applies a row without an effective date always, until a later dated row takes over', () => {
    const custom = new PriceTable([row('m', 1), row('m', 5, '2025-01-01')]);
    expect(custom.find('m', new Date('2000-01-01T00:00:00Z'))?.inputPerMillion).toBe(1);
    expect(custom.find('m', new Date('2025-01-01T00:00:00Z'))?.inputPerMillion).toBe(5);
  });

  it('lets a later row without an effective date replace every earlier row of its model', () => {
    // How a user's price (modelPrices) overrides the built-in rows of a model for all dates.
    const custom = new PriceTable([row('m', 5, '2020-01-01'), row('m', 6, '2025-01-01'), row('m', 1)]);
    expect(custom.find('m', new Date('2021-01-01T00:00:00Z'))?.inputPerMillion).toBe(1);
    expect(custom.find('m', new Date('2026-01-01T00:00:00Z'))?.inputPerMillion).toBe(1);
  });

  it('lets a later row override an earlier one with the same model and date', () => {
    const custom = new PriceTable([row('m', 1, '2025-01-01'), row('M', 7, '2025-01-01')]);
    expect(custom.find('m', NOW)?.inputPerMillion).toBe(7);
  });

  it('lets a user row override the built-in row with the same date', () => {
    const builtIn = DEFAULT_MODEL_PRICES.find((p) => p.model === 'gpt-4o');
    expect(builtIn).toBeDefined();
    const custom = new PriceTable([...DEFAULT_MODEL_PRICES, { ...builtIn!, inputPerMillion: 99 }]);
    expect(custom.find('gpt-4o-2024-08-06', NOW)?.inputPerMillion).toBe(99);
    expect(table.find('gpt-4o', NOW)?.inputPerMillion).toBe(builtIn!.inputPerMillion);
  });

  it('does not change when its input array changes later', () => {
    const rows = [row('m', 1)];
    const custom = new PriceTable(rows);
    rows.push(row('n', 2));
    expect(custom.find('n', NOW)).toBeUndefined();
  });
});

describe('PriceTable model ids from clouds and previews', () => {
  const table = new PriceTable(DEFAULT_MODEL_PRICES);
  const at = new Date('2026-11-26T00:00:00Z');

  it.each([
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['publishers/google/models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini-2.5-flash-preview-09-2025', 'gemini-2.5-flash'],
    ['gpt-5-mini-2025-08-07', 'gpt-5-mini'],
  ])('prices %s as %s', (id, model) => {
    expect(table.find(id, at)?.model).toBe(model);
  });

  it('prices a call with a broken start time today rather than failing', () => {
    expect(table.find('gpt-4o', new Date(Number.NaN))?.model).toBe('gpt-4o');
  });
});

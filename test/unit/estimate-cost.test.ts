import { describe, expect, it } from 'vitest';
import type { Attributes } from '@opentelemetry/api';
import { callUsageOfAttributes } from '../../src/pricing/call-usage-of-attributes.js';
import { estimateCost } from '../../src/pricing/estimate-cost.js';
import {
  DEFAULT_MODEL_PRICES,
  PRICE_TABLE_VERSION,
  PriceTable,
  type ModelPrice,
} from '../../src/pricing/price-table.js';
import { DEFAULT_SERVICES, type ServiceDefinition } from '../../src/pricing/service-catalog.js';
import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '../../src/semconv.js';

const prices = new PriceTable(DEFAULT_MODEL_PRICES);
const AT = new Date('2026-06-01T12:00:00Z');

function price(model: string): ModelPrice {
  const found = DEFAULT_MODEL_PRICES.find((p) => p.model === model);
  if (!found) throw new Error(`no built-in price for ${model}`);
  return found;
}

function service(name: string, perRequest?: boolean): ServiceDefinition {
  const found = DEFAULT_SERVICES.find(
    (s) => s.name === name && (perRequest === undefined || (s.perRequestUsd !== undefined) === perRequest),
  );
  if (!found) throw new Error(`no built-in service ${name}`);
  return found;
}

function usage(model: string, input: number, output: number, extra: Attributes = {}): Attributes {
  return {
    [ATTR_GEN_AI_RESPONSE_MODEL]: model,
    [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: input,
    [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: output,
    ...extra,
  };
}

describe('estimateCost per token', () => {
  it('prices input and output tokens at the model rate', () => {
    const p = price('gpt-4o');
    const expected = (1000 * p.inputPerMillion + 500 * p.outputPerMillion) / 1e6;
    const cost = estimateCost(
      callUsageOfAttributes(usage('gpt-4o', 1000, 500)),
      service('openai'),
      200,
      prices,
      AT,
    );
    expect(cost.usd).toBeCloseTo(expected, 10);
    expect(cost.model).toBe('per_token');
    expect(cost.priceSource).toBe(p.source);
    expect(cost.priceCheckedAt).toBe(p.checkedAt);
  });

  it('prices cached input tokens at the cached rate', () => {
    const p = price('gpt-4o');
    expect(p.cachedInputPerMillion).toBeDefined();
    const expected =
      (800 * p.inputPerMillion + 200 * p.cachedInputPerMillion! + 500 * p.outputPerMillion) / 1e6;
    const attributes = usage('gpt-4o-2024-08-06', 1000, 500, {
      [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 200,
    });
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd).toBeCloseTo(
      expected,
      10,
    );
  });

  it('prices cache writes at the cache-write rate', () => {
    const p = price('claude-sonnet-4-5');
    expect(p.cacheWritePerMillion).toBeDefined();
    const expected =
      (5000 * p.inputPerMillion +
        2000 * p.cachedInputPerMillion! +
        3000 * p.cacheWritePerMillion! +
        1000 * p.outputPerMillion) /
      1e6;
    const attributes = usage('claude-sonnet-4-5-20250929', 10_000, 1000, {
      [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2000,
      [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: 3000,
    });
    expect(
      estimateCost(callUsageOfAttributes(attributes), service('anthropic'), 200, prices, AT).usd,
    ).toBeCloseTo(expected, 10);
  });

  it('prices cache writes at the input rate when the model has no cache-write rate', () => {
    const p = price('gpt-4o');
    expect(p.cacheWritePerMillion).toBeUndefined();
    const expected = (1000 * p.inputPerMillion) / 1e6;
    const attributes = usage('gpt-4o', 1000, 0, { [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: 400 });
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd).toBeCloseTo(
      expected,
      10,
    );
  });

  it('never counts more cached tokens than input tokens', () => {
    const p = price('gpt-4o');
    const expected = (100 * p.cachedInputPerMillion!) / 1e6;
    const attributes = usage('gpt-4o', 100, 0, {
      [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 5000,
      [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: 5000,
    });
    const cost = estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd;
    expect(cost).toBeCloseTo(expected, 10);
    expect(cost).toBeGreaterThanOrEqual(0);
  });

  it('uses the long-context tier above its input threshold', () => {
    const p = price('gemini-2.5-pro');
    const tier = p.tiers?.[0];
    expect(tier).toBeDefined();
    const input = tier!.aboveInputTokens + 50_000;
    const expected = (input * tier!.inputPerMillion + 1000 * tier!.outputPerMillion) / 1e6;
    const cost = estimateCost(
      callUsageOfAttributes(usage('gemini-2.5-pro', input, 1000)),
      service('gemini'),
      200,
      prices,
      AT,
    );
    expect(cost.usd).toBeCloseTo(expected, 10);
  });

  it('uses the base rate at exactly the tier threshold', () => {
    const p = price('gemini-2.5-pro');
    const input = p.tiers![0]!.aboveInputTokens;
    const expected = (input * p.inputPerMillion + 1000 * p.outputPerMillion) / 1e6;
    expect(
      estimateCost(callUsageOfAttributes(usage('gemini-2.5-pro', input, 1000)), undefined, 200, prices, AT)
        .usd,
    ).toBeCloseTo(expected, 10);
  });

  it('prices cached input in the long-context tier at the tier cached rate', () => {
    const p = price('gemini-2.5-pro');
    const tier = p.tiers![0]!;
    const input = tier.aboveInputTokens + 1;
    const expected = ((input - 1000) * tier.inputPerMillion + 1000 * tier.cachedInputPerMillion!) / 1e6;
    const attributes = usage('gemini-2.5-pro', input, 0, {
      [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1000,
    });
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd).toBeCloseTo(
      expected,
      10,
    );
  });

  it('prices by the response model before the request model', () => {
    const mini = price('gpt-4o-mini');
    const attributes = {
      ...usage('gpt-4o-mini-2024-07-18', 1_000_000, 0),
      [ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o',
    };
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd).toBeCloseTo(
      mini.inputPerMillion,
      10,
    );
  });

  it('falls back to the request model when there is no response model', () => {
    const p = price('gpt-4o');
    const attributes = {
      [ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o',
      [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 0,
      [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 1_000_000,
    };
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd).toBeCloseTo(
      p.outputPerMillion,
      10,
    );
  });

  it('prices gemini-2.5-flash-lite at its own rate', () => {
    const lite = price('gemini-2.5-flash-lite');
    expect(
      estimateCost(
        callUsageOfAttributes(usage('gemini-2.5-flash-lite', 1_000_000, 0)),
        undefined,
        200,
        prices,
        AT,
      ).usd,
    ).toBeCloseTo(lite.inputPerMillion, 10);
  });

  it('reports an unknown model rather than inventing a price', () => {
    expect(
      estimateCost(callUsageOfAttributes(usage('gpt-99', 1000, 100)), service('openai'), 200, prices, AT),
    ).toEqual({
      usd: null,
      unknownReason: 'unknown_model',
    });
  });

  it('reports gemini-2.5-flash-lite as unknown when only gemini-2.5-flash is priced', () => {
    const onlyFlash = new PriceTable([price('gemini-2.5-flash')]);
    expect(
      estimateCost(
        callUsageOfAttributes(usage('gemini-2.5-flash-lite', 1000, 100)),
        undefined,
        200,
        onlyFlash,
        AT,
      ),
    ).toEqual({
      usd: null,
      unknownReason: 'unknown_model',
    });
  });

  it('reports a call made before the first dated price of a model as unknown', () => {
    const table = new PriceTable([
      { model: 'm', effectiveFrom: '2025-01-01', inputPerMillion: 1, outputPerMillion: 1 },
    ]);
    expect(
      estimateCost(
        callUsageOfAttributes(usage('m', 1000, 100)),
        undefined,
        200,
        table,
        new Date('2024-12-31T23:59:59Z'),
      ).unknownReason,
    ).toBe('unknown_model');
  });

  it('prices a call on either side of a price change at the rate then in force', () => {
    const table = new PriceTable([
      { model: 'm', effectiveFrom: '2025-01-01', inputPerMillion: 1, outputPerMillion: 0 },
      { model: 'm', effectiveFrom: '2025-06-01', inputPerMillion: 2, outputPerMillion: 0 },
    ]);
    const attributes = usage('m', 1_000_000, 0);
    expect(
      estimateCost(callUsageOfAttributes(attributes), undefined, 200, table, new Date('2025-05-31T23:59:59Z'))
        .usd,
    ).toBe(1);
    expect(
      estimateCost(callUsageOfAttributes(attributes), undefined, 200, table, new Date('2025-06-01T00:00:00Z'))
        .usd,
    ).toBe(2);
  });

  it('reports usage without a model as no_model', () => {
    const attributes = { [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 10, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 5 };
    expect(estimateCost(callUsageOfAttributes(attributes), service('openai'), 200, prices, AT)).toEqual({
      usd: null,
      unknownReason: 'no_model',
    });
  });

  it('prices output-only usage', () => {
    const p = price('gpt-4o');
    const attributes = { [ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o', [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 2000 };
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, prices, AT).usd).toBeCloseTo(
      (2000 * p.outputPerMillion) / 1e6,
      10,
    );
  });

  it('rounds to the eight decimals numeric(14,8) keeps', () => {
    const usd = estimateCost(callUsageOfAttributes(usage('gpt-4o', 1, 1)), undefined, 200, prices, AT).usd;
    expect(usd).not.toBeNull();
    expect(Math.round(usd! * 1e8) / 1e8).toBe(usd);
  });

  it.each([
    ['negative', -5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '1000'],
  ])('ignores %s token counts', (_label, bad) => {
    const attributes = {
      [ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o',
      [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: bad as number,
      [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: bad as number,
    };
    const cost = estimateCost(callUsageOfAttributes(attributes), service('supabase'), 200, prices, AT);
    // Without usable token counts the call is priced by its service (a subscription).
    expect(cost).toEqual({ usd: 0, model: 'subscription' });
  });
});

describe('estimateCost per request', () => {
  const brightdata = service('brightdata', true);

  it('charges the per-request price for a 2xx response', () => {
    expect(estimateCost(callUsageOfAttributes({}), brightdata, 200, prices, AT)).toEqual({
      usd: brightdata.perRequestUsd,
      model: 'per_request',
    });
    expect(estimateCost(callUsageOfAttributes({}), brightdata, 204, prices, AT).usd).toBe(
      brightdata.perRequestUsd,
    );
  });

  it.each([199, 301, 404, 429, 500, 503, undefined])('charges nothing for status %j', (status) => {
    expect(estimateCost(callUsageOfAttributes({}), brightdata, status, prices, AT)).toEqual({
      usd: 0,
      model: 'per_request',
    });
  });

  it('charges nothing for a subscription service', () => {
    expect(estimateCost(callUsageOfAttributes({}), service('supabase'), 200, prices, AT)).toEqual({
      usd: 0,
      model: 'subscription',
    });
    expect(
      estimateCost(
        callUsageOfAttributes({}),
        { name: 'plan', hosts: ['x'], costModel: 'subscription' },
        500,
        prices,
        AT,
      ),
    ).toEqual({
      usd: 0,
      model: 'subscription',
    });
  });

  it('gives null for a service without a price', () => {
    expect(estimateCost(callUsageOfAttributes({}), service('openai'), 200, prices, AT)).toEqual({
      usd: null,
    });
  });

  it('gives null for an unknown service', () => {
    expect(estimateCost(callUsageOfAttributes({}), undefined, 200, prices, AT)).toEqual({ usd: null });
  });

  it.each([400, 401, 429, 500, 503, 529])(
    'prices an LLM attempt answered %i without usage at 0: refused and failed attempts are not billed',
    (status) => {
      const attributes = {
        'gen_ai.provider.name': 'openai',
        'analytics.usage.unknown_reason': 'no_usage_in_response',
      };
      expect(estimateCost(callUsageOfAttributes(attributes), service('openai'), status, prices, AT)).toEqual({
        usd: 0,
        model: 'per_token',
      });
    },
  );

  it('still prices the usage an LLM error answer reports, and says why a 2xx answer without usage has no price', () => {
    const p = price('gpt-4o');
    const reported = usage('gpt-4o', 1_000_000, 0, { 'gen_ai.provider.name': 'openai' });
    expect(estimateCost(callUsageOfAttributes(reported), service('openai'), 500, prices, AT).usd).toBeCloseTo(
      p.inputPerMillion,
      10,
    );
    const attributes = {
      'gen_ai.provider.name': 'openai',
      'analytics.usage.unknown_reason': 'no_usage_in_response',
    };
    expect(estimateCost(callUsageOfAttributes(attributes), service('openai'), 200, prices, AT)).toEqual({
      usd: null,
      unknownReason: 'no_usage_in_response',
    });
    // A connection that failed before any answer: what it cost is not known.
    expect(
      estimateCost(callUsageOfAttributes(attributes), service('openai'), undefined, prices, AT).usd,
    ).toBeNull();
  });

  it('prices token usage before the per-request price', () => {
    const p = price('gpt-4o');
    const cost = estimateCost(
      callUsageOfAttributes(usage('gpt-4o', 1_000_000, 0)),
      brightdata,
      200,
      prices,
      AT,
    );
    expect(cost.model).toBe('per_token');
    expect(cost.usd).toBeCloseTo(p.inputPerMillion, 10);
  });
});

describe('estimateCost with what responses report', () => {
  const table = new PriceTable(DEFAULT_MODEL_PRICES);
  const AT = new Date('2026-11-26T12:00:00Z');
  const row = (model: string, at = AT) => table.find(model, at)!;

  it('prices free requests (token counting) at 0', () => {
    expect(
      estimateCost(callUsageOfAttributes({ 'analytics.usage.free': true }), undefined, 200, table, AT),
    ).toEqual({
      usd: 0,
      model: 'free',
    });
  });

  it('gives the reason usage could not be read instead of a number', () => {
    const result = estimateCost(
      callUsageOfAttributes({ 'analytics.usage.unknown_reason': 'body_too_large' }),
      undefined,
      200,
      table,
      AT,
    );
    expect(result).toEqual({ usd: null, unknownReason: 'body_too_large' });
  });

  it('prices Gemini thinking tokens as output and cached content at the cache rate', () => {
    // 1,240 input (200 cached), 800 output of which 500 thinking, gemini-2.5-flash.
    const p = row('gemini-2.5-flash');
    const expected =
      (1040 * p.inputPerMillion + 200 * p.cachedInputPerMillion! + 800 * p.outputPerMillion) / 1e6;
    const result = estimateCost(
      callUsageOfAttributes({
        'gen_ai.response.model': 'gemini-2.5-flash',
        'gen_ai.usage.input_tokens': 1240,
        'gen_ai.usage.cache_read.input_tokens': 200,
        'gen_ai.usage.output_tokens': 800,
        'gen_ai.usage.reasoning.output_tokens': 500,
      }),
      undefined,
      200,
      table,
      AT,
    );
    expect(result.usd).toBeCloseTo(expected, 10);
    expect(result).toMatchObject({ model: 'per_token', priceTableVersion: PRICE_TABLE_VERSION });
  });

  it('prices a Gemini 2.5 Pro prompt above 200k tokens at the long-context rates, for every token', () => {
    const p = row('gemini-2.5-pro');
    const tier = p.tiers![0]!;
    const attributes = {
      'gen_ai.response.model': 'gemini-2.5-pro',
      'gen_ai.usage.input_tokens': 250_000,
      'gen_ai.usage.output_tokens': 1000,
    };
    const expected = (250_000 * tier.inputPerMillion + 1000 * tier.outputPerMillion) / 1e6;
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, table, AT).usd).toBeCloseTo(
      expected,
      10,
    );
    expect(tier.inputPerMillion).toBeGreaterThan(p.inputPerMillion);
  });

  it("prices Anthropic's 5-minute and 1-hour cache writes at their own rates", () => {
    const p = row('claude-sonnet-4-5');
    // 200 fresh input, 1,000 cache reads, 300 five-minute and 100 one-hour writes, 60 output.
    const expected =
      (200 * p.inputPerMillion +
        1000 * p.cachedInputPerMillion! +
        300 * p.cacheWritePerMillion! +
        100 * p.cacheWrite1hPerMillion! +
        60 * p.outputPerMillion) /
      1e6;
    const attributes = {
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'gen_ai.usage.input_tokens': 1600,
      'gen_ai.usage.cache_read.input_tokens': 1000,
      'gen_ai.usage.cache_creation.input_tokens': 400,
      'analytics.usage.cache_creation_1h.input_tokens': 100,
      'gen_ai.usage.output_tokens': 60,
    };
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, table, AT).usd).toBeCloseTo(
      expected,
      10,
    );
  });

  it('applies a reported service tier: a row of its own, a provider multiplier, or no price at all', () => {
    const usage = {
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.output_tokens': 0,
    };
    const gpt4o = row('gpt-4o');
    expect(
      estimateCost(
        callUsageOfAttributes({ ...usage, 'analytics.usage.service_tier': 'default' }),
        undefined,
        200,
        table,
        AT,
      ).usd,
    ).toBe(gpt4o.inputPerMillion);
    expect(
      estimateCost(
        callUsageOfAttributes({ ...usage, 'analytics.usage.service_tier': 'priority' }),
        undefined,
        200,
        table,
        AT,
      ).usd,
    ).toBe(gpt4o.serviceTiers!.priority!.inputPerMillion);
    expect(
      estimateCost(
        callUsageOfAttributes({ ...usage, 'analytics.usage.service_tier': 'flex' }),
        undefined,
        200,
        table,
        AT,
      ).usd,
    ).toBe(gpt4o.inputPerMillion * 0.5);
    expect(
      estimateCost(
        callUsageOfAttributes({ ...usage, 'analytics.usage.service_tier': 'scale' }),
        undefined,
        200,
        table,
        AT,
      ),
    ).toEqual({
      usd: null,
      unknownReason: 'unpriced_service_tier',
    });
  });

  it('keeps the long-context tier of a call at a discounted service tier (batch over 200k tokens)', () => {
    const pro = row('gemini-2.5-pro');
    const tier = pro.tiers![0]!;
    const attributes = {
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.response.model': 'gemini-2.5-pro',
      'gen_ai.usage.input_tokens': 300_000,
      'gen_ai.usage.output_tokens': 10_000,
      'analytics.usage.service_tier': 'batch',
    };
    const expected = (0.5 * (300_000 * tier.inputPerMillion + 10_000 * tier.outputPerMillion)) / 1e6;
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, table, AT).usd).toBeCloseTo(
      expected,
      10,
    );
  });

  it("takes a tier's multiplier from the provider that served the call, not the model's home provider", () => {
    const attributes = {
      'gen_ai.response.model': 'gemini-2.5-flash',
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.output_tokens': 0,
      'analytics.usage.service_tier': 'flex',
    };
    const flash = row('gemini-2.5-flash');
    // The Gemini API sells flex at half price; Vertex AI has no flex price here.
    expect(
      estimateCost(
        callUsageOfAttributes({ ...attributes, 'gen_ai.provider.name': 'gcp.gemini' }),
        undefined,
        200,
        table,
        AT,
      ).usd,
    ).toBeCloseTo(flash.inputPerMillion * 0.5, 10);
    expect(
      estimateCost(
        callUsageOfAttributes({ ...attributes, 'gen_ai.provider.name': 'gcp.vertex_ai' }),
        undefined,
        200,
        table,
        AT,
      ),
    ).toEqual({ usd: null, unknownReason: 'unpriced_service_tier' });
  });

  it('prices a promotional model at the promotion before its end date, and at the full price after', () => {
    const attributes = {
      'gen_ai.response.model': 'gemini-3.8-flash',
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.output_tokens': 0,
    };
    const during = estimateCost(
      callUsageOfAttributes(attributes),
      undefined,
      200,
      table,
      new Date('2026-12-31T23:59:59Z'),
    );
    const after = estimateCost(
      callUsageOfAttributes(attributes),
      undefined,
      200,
      table,
      new Date('2027-01-01T00:00:00Z'),
    );
    expect(during.usd).toBe(0.75);
    expect(after).toMatchObject({ usd: 1.5, priceEffectiveFrom: '2027-01-01' });
  });

  it('prices the Haiku 5.5 long-context tier on input, cache reads and cache writes together', () => {
    const p = row('claude-haiku-5-5');
    const tier = p.tiers![0]!;
    // 60k fresh + 50k cache reads: 110k prompt tokens, over the 100k threshold.
    const attributes = {
      'gen_ai.response.model': 'claude-haiku-5-5',
      'gen_ai.usage.input_tokens': 110_000,
      'gen_ai.usage.cache_read.input_tokens': 50_000,
      'gen_ai.usage.output_tokens': 1000,
    };
    const expected =
      (60_000 * tier.inputPerMillion + 50_000 * tier.cachedInputPerMillion! + 1000 * tier.outputPerMillion) /
      1e6;
    expect(estimateCost(callUsageOfAttributes(attributes), undefined, 200, table, AT).usd).toBeCloseTo(
      expected,
      10,
    );
  });
});

describe('estimateCost per record', () => {
  const table = new PriceTable([]);
  const datasets = DEFAULT_SERVICES.find((s) => s.pathPattern === '/datasets/v3/snapshot/*')!;
  const at = new Date('2026-11-26T00:00:00Z');

  it('prices a successful download by the records it delivered', () => {
    expect(
      estimateCost(callUsageOfAttributes({ 'analytics.usage.records': 250 }), datasets, 200, table, at),
    ).toEqual({
      usd: 0.375,
      model: 'per_record',
    });
  });

  it('prices a failed download at 0, and a download without a count as unknown', () => {
    expect(
      estimateCost(callUsageOfAttributes({ 'analytics.usage.records': 250 }), datasets, 500, table, at),
    ).toEqual({
      usd: 0,
      model: 'per_record',
    });
    expect(estimateCost(callUsageOfAttributes({}), datasets, 200, table, at)).toEqual({
      usd: null,
      unknownReason: 'record_count_unknown',
    });
    expect(
      estimateCost(
        callUsageOfAttributes({ 'analytics.usage.unknown_reason': 'download_incomplete' }),
        datasets,
        200,
        table,
        at,
      ),
    ).toEqual({
      usd: null,
      unknownReason: 'download_incomplete',
    });
  });
});

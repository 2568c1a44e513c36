import { describe, expect, it } from 'vitest';
import { callUsageOfMetadata } from '../../database/call-usage-of-metadata.js';
import { callUsageOfAttributes } from '../../src/pricing/call-usage-of-attributes.js';
import { ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS } from '../../src/semconv.js';

describe('call usage', () => {
  const attributes = {
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4',
    'gen_ai.response.model': 'claude-sonnet-4-20250514',
    'gen_ai.usage.input_tokens': 5000,
    'gen_ai.usage.output_tokens': 300,
    'gen_ai.usage.cache_read.input_tokens': 1000,
    'gen_ai.usage.cache_creation.input_tokens': 2000,
    [ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS]: 500,
    'analytics.usage.service_tier': 'priority',
    'analytics.usage.records': 7,
    'analytics.usage.free': true,
    'analytics.usage.unknown_reason': 'body_too_large',
  };
  const expected = {
    provider: 'anthropic',
    requestModel: 'claude-sonnet-4',
    responseModel: 'claude-sonnet-4-20250514',
    inputTokens: 5000,
    outputTokens: 300,
    cacheReadTokens: 1000,
    cacheWriteTokens: 2000,
    cacheWrite1hTokens: 500,
    serviceTier: 'priority',
    records: 7,
    free: true,
    unknownReason: 'body_too_large',
  };

  it('reads every priced fact from span attributes', () => {
    expect(callUsageOfAttributes(attributes)).toEqual(expected);
  });

  it('reads the same facts from a stored row under the keys the row mapping writes', () => {
    const metadata = {
      provider: 'anthropic',
      request_model: 'claude-sonnet-4',
      response_model: 'claude-sonnet-4-20250514',
      input_tokens: 5000,
      output_tokens: 300,
      cached_input_tokens: 1000,
      cache_write_input_tokens: 2000,
      cache_write_1h_input_tokens: 500,
      service_tier: 'priority',
      records: 7,
      free: true,
      usage_unknown_reason: 'body_too_large',
      // The old price's verdict is no usage fact.
      cost_unknown_reason: 'unknown_model',
      cost_model: 'per_token',
    };
    expect(callUsageOfMetadata(metadata)).toEqual(expected);
  });

  it('leaves out what is not a count or a name', () => {
    expect(
      callUsageOfAttributes({
        'gen_ai.response.model': '',
        'gen_ai.usage.input_tokens': -1,
        'gen_ai.usage.output_tokens': Number.NaN,
        'analytics.usage.free': 'true',
      }),
    ).toEqual({});
    expect(
      callUsageOfMetadata({ response_model: 42, input_tokens: '100', output_tokens: null, free: 1 }),
    ).toEqual({});
  });
});

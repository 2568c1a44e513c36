import { describe, expect, it } from 'vitest';
import { enrichAttempt } from '../../src/processors/enrich-attempt.js';
import { ServiceCatalog } from '../../src/pricing/service-catalog.js';

describe('enrichAttempt', () => {
  const catalog = new ServiceCatalog();
  const attemptAttributes = {
    'http.request.method': 'POST',
    'server.address': 'api.openai.com',
    'http.response.status_code': 200,
  };

  it('adds only what the attempt lacks, and returns the attempt itself when there is nothing to add', () => {
    const own = { ...attemptAttributes, 'gen_ai.request.model': 'mine' };
    const caller = { 'server.address': 'api.openai.com' };
    expect(enrichAttempt(own, { ...caller, 'gen_ai.request.model': 'theirs' }, catalog, true)).toBe(own);
    expect(
      enrichAttempt(own, { ...caller, 'gen_ai.input.messages': '[{"role":"user"}]' }, catalog, true),
    ).toBe(own);
  });

  it('maps the usage names of OpenLLMetry and the old conventions, and ignores counts no call has', () => {
    expect(
      enrichAttempt(
        attemptAttributes,
        {
          'gen_ai.system': 'openai',
          'gen_ai.usage.prompt_tokens': 10,
          'gen_ai.usage.completion_tokens': 5,
          'gen_ai.usage.cache_read_input_tokens': 4,
          'gen_ai.usage.cache_creation_input_tokens': -1,
          'anthropic.usage.cache_creation.ephemeral_1h_input_tokens': 2,
        },
        catalog,
        true,
      ),
    ).toEqual({
      ...attemptAttributes,
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'analytics.usage.cache_creation_1h.input_tokens': 2,
    });
  });

  it('gives no usage to an attempt that is not the billed one, nor to one with a free or record count of its own', () => {
    const caller = {
      'server.address': 'api.openai.com',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    };
    expect(enrichAttempt(attemptAttributes, caller, catalog, false)).toBe(attemptAttributes);
    const free = { ...attemptAttributes, 'analytics.usage.free': true };
    expect(enrichAttempt(free, caller, catalog, true)).toBe(free);
  });
});

import { describe, expect, it } from 'vitest';
import { adoptGenAiNames } from '../../src/processors/adopt-gen-ai-names.js';

describe('adoptGenAiNames', () => {
  it('adds our names for what a call names its own way, keeping its names and ours where set', () => {
    expect(
      adoptGenAiNames({
        'gen_ai.system': 'openai',
        'gen_ai.usage.prompt_tokens': 10,
        'gen_ai.usage.completion_tokens': 5,
        'gen_ai.usage.cache_read_input_tokens': 4,
        'gen_ai.usage.cache_read.input_tokens': 3,
        'gen_ai.usage.cache_write.input_tokens': -1,
        'gen_ai.usage.cache_creation_input_tokens': 2,
        'openai.response.service_tier': 'flex',
      }),
    ).toEqual({
      'gen_ai.system': 'openai',
      'gen_ai.usage.prompt_tokens': 10,
      'gen_ai.usage.completion_tokens': 5,
      'gen_ai.usage.cache_read_input_tokens': 4,
      'gen_ai.usage.cache_read.input_tokens': 3,
      'gen_ai.usage.cache_write.input_tokens': -1,
      'gen_ai.usage.cache_creation_input_tokens': 2,
      'openai.response.service_tier': 'flex',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      // A count that is no count is skipped for the next name.
      'gen_ai.usage.cache_creation.input_tokens': 2,
      'analytics.usage.service_tier': 'flex',
    });
  });

  it('returns the attributes themselves when they hold nothing under other names', () => {
    const own = {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.usage.input_tokens': 7,
      'http.request.method': 'POST',
    };
    expect(adoptGenAiNames(own)).toBe(own);
  });
});

import { describe, expect, it } from 'vitest';
import { usageEndpointOf } from '../../src/usage/usage-endpoint.js';

describe('usageEndpointOf', () => {
  it.each([
    ['gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent', 'gemini', 'generate_content'],
    ['gcp.gemini', '/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'gemini', 'generate_content'],
    ['gcp.gemini', '/v1beta/tunedModels/my-model:generateContent', 'gemini', 'generate_content'],
    ['gcp.gemini', '/v1beta/models/gemini-embedding-001:batchEmbedContents', 'gemini', 'embeddings'],
    ['gcp.gemini', '/v1beta/openai/chat/completions', 'openai', 'chat'],
    [
      'gcp.vertex_ai',
      '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent',
      'gemini',
      'generate_content',
    ],
    [
      'gcp.vertex_ai',
      '/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
      'anthropic',
      'chat',
    ],
    ['gcp.vertex_ai', '/v1/projects/p/locations/global/endpoints/openapi/chat/completions', 'openai', 'chat'],
    ['openai', '/v1/chat/completions', 'openai', 'chat'],
    ['openai', '/v1/responses', 'openai', 'chat'],
    ['openai', '/v1/completions', 'openai', 'text_completion'],
    ['openai', '/v1/embeddings', 'openai', 'embeddings'],
    ['openai', '/proxy/openai/v1/chat/completions', 'openai', 'chat'],
    ['anthropic', '/v1/messages', 'anthropic', 'chat'],
  ])('reads %s %s as %s %s', (provider, path, format, operation) => {
    expect(usageEndpointOf(provider, 'POST', path)).toMatchObject({ format, operation });
  });

  it('names the model a Gemini or Vertex URL asks for', () => {
    expect(
      usageEndpointOf('gcp.gemini', 'POST', '/v1beta/models/gemini%2D2.5-flash:generateContent'),
    ).toMatchObject({
      requestModel: 'gemini-2.5-flash',
    });
    expect(
      usageEndpointOf(
        'gcp.vertex_ai',
        'POST',
        '/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict',
      ),
    ).toMatchObject({ requestModel: 'claude-haiku-4-5@20251001' });
    // A malformed escape is kept as written, not thrown on.
    expect(usageEndpointOf('gcp.gemini', 'POST', '/v1beta/models/bad%E0:generateContent')).toMatchObject({
      requestModel: 'bad%E0',
    });
  });

  it.each([
    ['gcp.gemini', '/v1beta/models/gemini-2.5-flash:countTokens'],
    ['gcp.vertex_ai', '/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:computeTokens'],
    ['gcp.vertex_ai', '/v1/projects/p/locations/l/publishers/anthropic/models/count-tokens:rawPredict'],
    ['anthropic', '/v1/messages/count_tokens'],
  ])('knows %s %s is free', (provider, path) => {
    expect(usageEndpointOf(provider, 'POST', path)).toMatchObject({ operation: 'count_tokens', free: true });
  });

  it.each([
    // Calls whose bodies may hold `usage` or `model` but are not billed as they are made.
    ['openai', 'GET', '/v1/responses/resp_123'],
    ['openai', 'DELETE', '/v1/responses/resp_123'],
    ['openai', 'POST', '/v1/responses/resp_123/cancel'],
    ['openai', 'GET', '/v1/models'],
    ['openai', 'POST', '/v1/files'],
    ['openai', 'POST', '/v1/batches'],
    ['openai', 'GET', '/v1/chat/completions'],
    ['anthropic', 'POST', '/v1/messages/batches'],
    ['anthropic', 'GET', '/v1/messages/batches/msgbatch_1/results'],
    ['gcp.gemini', 'GET', '/v1beta/models'],
    ['gcp.gemini', 'GET', '/v1beta/models/gemini-2.5-flash'],
    ['gcp.gemini', 'POST', '/v1beta/models/gemini-2.5-flash:batchGenerateContent'],
    ['gcp.gemini', 'POST', '/upload/v1beta/files'],
    ['gcp.vertex_ai', 'POST', '/v1/projects/p/locations/l/publishers/meta/models/llama:rawPredict'],
    ['cohere', 'POST', '/v1/chat'],
  ])('leaves %s %s %s unread', (provider, method, path) => {
    expect(usageEndpointOf(provider, method, path)).toBeUndefined();
  });
});

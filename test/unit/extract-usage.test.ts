import { describe, expect, it } from 'vitest';
import {
  anthropicResponse,
  anthropicStream,
  asJsonArray,
  asSse,
  geminiResponse,
  geminiStreamChunks,
  openAiChatResponse,
  openAiChatStreamEvents,
  openAiResponsesResponse,
} from '../../dev/llm-responses.mjs';
import { extractUsage } from '../../src/usage/extract-usage.js';
import type { TokenUsage, UsageResult } from '../../src/usage/token-usage.js';
import { usageKind } from '../helpers/usage-kind.js';

/** Reads `text` as the response to a POST to `path` of `provider`. */
function extract(provider: string, path: string, text: string): UsageResult {
  const kind = usageKind(provider, path);
  if (kind.kind !== 'usage') throw new Error('not usage');
  return extractUsage(kind.endpoint, text);
}

function usageOf(result: UsageResult): TokenUsage {
  if ('reason' in result) throw new Error(`no usage: ${result.reason}`);
  return result.usage;
}

const GEMINI = '/v1beta/models/gemini-2.5-flash:generateContent';

describe('extractUsage for Gemini', () => {
  const counts = { prompt: 1200, cached: 200, candidates: 300, thoughts: 500, toolUse: 40 };

  it('counts thinking as output, tool-use prompt as input, cached content as cache reads', () => {
    expect(usageOf(extract('gcp.gemini', GEMINI, geminiResponse('gemini-2.5-flash-001', counts)))).toEqual({
      operation: 'generate_content',
      requestModel: 'gemini-2.5-flash',
      responseModel: 'gemini-2.5-flash-001',
      inputTokens: 1240,
      cacheReadTokens: 200,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 800,
      reasoningTokens: 500,
    });
  });

  it.each([
    ['a JSON array', asJsonArray(geminiStreamChunks('gemini-2.5-flash', counts))],
    ['server-sent events', asSse(geminiStreamChunks('gemini-2.5-flash', counts))],
  ])('reads the final running totals of a stream sent as %s', (_, body) => {
    const usage = usageOf(
      extract('gcp.gemini', '/v1beta/models/gemini-2.5-flash:streamGenerateContent', body),
    );
    expect(usage).toMatchObject({
      inputTokens: 1240,
      outputTokens: 800,
      reasoningTokens: 500,
      cacheReadTokens: 200,
    });
  });

  it('does not let a last chunk without usage, or with partial usage, lower the totals', () => {
    const chunks = [
      ...geminiStreamChunks('gemini-2.5-flash', counts),
      { candidates: [{ content: { parts: [{ text: '' }] } }], usageMetadata: { promptTokenCount: 1200 } },
      { candidates: [] },
    ];
    expect(usageOf(extract('gcp.gemini', GEMINI, asSse(chunks))).outputTokens).toBe(800);
  });

  it('reads Vertex AI endpoints and their model names the same way', () => {
    const path =
      '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent';
    expect(usageOf(extract('gcp.vertex_ai', path, geminiResponse('gemini-2.5-pro', counts)))).toMatchObject({
      requestModel: 'gemini-2.5-pro',
      inputTokens: 1240,
    });
  });

  it('treats countTokens as free', () => {
    const usage = usageOf(
      extract('gcp.gemini', '/v1beta/models/gemini-2.5-flash:countTokens', '{"totalTokens":9}'),
    );
    expect(usage).toMatchObject({ operation: 'count_tokens', free: true });
  });

  it('says the Gemini API reports no usage for embeddings, rather than inventing one', () => {
    const body = '{"embedding":{"values":[0.1,0.2]}}';
    expect(extract('gcp.gemini', '/v1beta/models/gemini-embedding-001:embedContent', body)).toEqual({
      reason: 'provider_reports_no_usage',
    });
  });
});

describe('extractUsage for OpenAI', () => {
  const counts = { prompt: 2000, cached: 1500, completion: 700, reasoning: 300 };

  it('reads chat completions: cached tokens are part of the prompt, reasoning part of the completion', () => {
    expect(
      usageOf(
        extract('openai', '/v1/chat/completions', openAiChatResponse('gpt-4o-2024-08-06', counts, 'flex')),
      ),
    ).toEqual({
      operation: 'chat',
      responseModel: 'gpt-4o-2024-08-06',
      serviceTier: 'flex',
      inputTokens: 2000,
      cacheReadTokens: 1500,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 700,
      reasoningTokens: 300,
    });
  });

  it('reads the usage of a stream from its last chunk (the others carry usage: null)', () => {
    const body = `${asSse(openAiChatStreamEvents('gpt-4o-mini-2024-07-18', counts))}data: [DONE]\n\n`;
    expect(usageOf(extract('openai', '/v1/chat/completions', body))).toMatchObject({
      inputTokens: 2000,
      outputTokens: 700,
      responseModel: 'gpt-4o-mini-2024-07-18',
    });
  });

  it('says a stream that did not ask for usage has none', () => {
    const events = openAiChatStreamEvents('gpt-4o-mini', counts).slice(0, 3);
    expect(extract('openai', '/v1/chat/completions', asSse(events))).toEqual({
      reason: 'no_usage_in_response',
    });
  });

  it("prices the model that answered, not a tool's model the Responses API echoes after it", () => {
    const response = JSON.parse(openAiResponsesResponse('gpt-4.1-2025-04-14', counts)) as Record<
      string,
      unknown
    >;
    response.tools = [{ type: 'image_generation', model: 'gpt-image-1' }];
    expect(usageOf(extract('openai', '/v1/responses', JSON.stringify(response))).responseModel).toBe(
      'gpt-4.1-2025-04-14',
    );
  });

  it('reads the Responses API (input/output tokens)', () => {
    expect(
      usageOf(extract('openai', '/v1/responses', openAiResponsesResponse('gpt-4.1', counts))),
    ).toMatchObject({
      inputTokens: 2000,
      cacheReadTokens: 1500,
      outputTokens: 700,
      reasoningTokens: 300,
      responseModel: 'gpt-4.1',
    });
  });

  it('reads embeddings usage', () => {
    const body =
      '{"object":"list","data":[],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}';
    expect(usageOf(extract('openai', '/v1/embeddings', body))).toMatchObject({
      operation: 'embeddings',
      inputTokens: 8,
      outputTokens: 0,
    });
  });
});

describe('extractUsage for Anthropic', () => {
  const counts = { input: 200, cacheRead: 1000, cacheWrite5m: 300, cacheWrite1h: 100, output: 60 };

  it('adds cache reads and writes to the input, as OTel counts it', () => {
    expect(
      usageOf(extract('anthropic', '/v1/messages', anthropicResponse('claude-sonnet-4-5-20250929', counts))),
    ).toEqual({
      operation: 'chat',
      responseModel: 'claude-sonnet-4-5-20250929',
      serviceTier: 'standard',
      inputTokens: 1600,
      cacheReadTokens: 1000,
      cacheWriteTokens: 400,
      cacheWrite1hTokens: 100,
      outputTokens: 60,
      reasoningTokens: 0,
    });
  });

  it('takes input from message_start and the cumulative output of the last message_delta', () => {
    const usage = usageOf(
      extract('anthropic', '/v1/messages', anthropicStream('claude-haiku-4-5-20251001', counts)),
    );
    expect(usage).toMatchObject({
      inputTokens: 1600,
      outputTokens: 60,
      responseModel: 'claude-haiku-4-5-20251001',
    });
  });

  it('treats count_tokens as free', () => {
    expect(usageOf(extract('anthropic', '/v1/messages/count_tokens', '{"input_tokens":5}'))).toMatchObject({
      free: true,
    });
  });
});

describe('extractUsage on bad input', () => {
  it.each([
    ['an empty body', ''],
    ['HTML', '<html>502 Bad Gateway</html>'],
    ['an error object', '{"error":{"message":"quota"}}'],
    ['a usage object cut off', '{"usage":{"prompt_tokens":12,"completion'],
    ['usage with wrong types', '{"usage":{"prompt_tokens":"12","completion_tokens":-3}}'],
  ])('gives a reason, not numbers, for %s', (_, body) => {
    expect(extract('openai', '/v1/chat/completions', body)).toEqual({ reason: 'no_usage_in_response' });
  });
});

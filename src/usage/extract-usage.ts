import { child, count, objectsByKey, stringsByKey } from './json-fragments.js';
import { maxCount, type TokenUsage, type UsageResult } from './token-usage.js';

/** GenAI providers whose responses are read, by OTel `gen_ai.provider.name`. */
export const USAGE_PROVIDERS = new Set(['gcp.gemini', 'gcp.vertex_ai', 'gcp.gen_ai', 'openai', 'anthropic']);

/**
 * Reads token usage from (windows of) a response body. `path` tells the operation: Gemini's
 * `:countTokens` and Anthropic's `count_tokens` are free; Gemini and Vertex name the requested
 * model in the URL. Streams are handled by the same code: usage objects repeat running or
 * cumulative totals, so the field-wise maximum over all of them is the final count.
 */
export function extractUsage(provider: string, path: string, text: string): UsageResult {
  switch (provider) {
    case 'gcp.gemini':
    case 'gcp.vertex_ai':
    case 'gcp.gen_ai':
      return extractGemini(path, text);
    case 'openai':
      return extractOpenAi(path, text);
    case 'anthropic':
      return extractAnthropic(path, text);
    default:
      return { reason: 'unsupported_provider' };
  }
}

const GEMINI_PATH = /\/models\/([^/:?]+):([A-Za-z]+)/;

function extractGemini(path: string, text: string): UsageResult {
  const match = GEMINI_PATH.exec(path);
  const requestModel = match?.[1] !== undefined ? decodeURIComponent(match[1]) : undefined;
  const method = match?.[2] ?? '';
  const operation =
    method === 'countTokens'
      ? 'count_tokens'
      : method === 'embedContent' || method === 'batchEmbedContents'
        ? 'embeddings'
        : 'generate_content';
  const base = { operation, ...(requestModel !== undefined && { requestModel }) };
  if (operation === 'count_tokens') return { usage: { ...emptyUsage(base), free: true } };
  const metadata = objectsByKey(text, 'usageMetadata');
  if (metadata.length === 0) {
    // The Gemini API reports no usage for embeddings; it is not invented here.
    return { reason: operation === 'embeddings' ? 'provider_reports_no_usage' : 'no_usage_in_response' };
  }
  const prompt = maxCount(metadata.map((m) => count(m, 'promptTokenCount')));
  const toolUse = maxCount(metadata.map((m) => count(m, 'toolUsePromptTokenCount')));
  const candidates = maxCount(metadata.map((m) => count(m, 'candidatesTokenCount')));
  const thoughts = maxCount(metadata.map((m) => count(m, 'thoughtsTokenCount')));
  const responseModel = stringsByKey(text, 'modelVersion').at(-1);
  const serviceTier = stringsByKey(text, 'serviceTier').at(-1) ?? stringsByKey(text, 'trafficType').at(-1);
  return {
    usage: {
      ...emptyUsage(base),
      ...(responseModel !== undefined && { responseModel }),
      ...(serviceTier !== undefined && { serviceTier: serviceTier.toLowerCase() }),
      inputTokens: prompt + toolUse,
      cacheReadTokens: maxCount(metadata.map((m) => count(m, 'cachedContentTokenCount'))),
      outputTokens: candidates + thoughts,
      reasoningTokens: thoughts,
    },
  };
}

function extractOpenAi(path: string, text: string): UsageResult {
  const operation = path.includes('/embeddings') ? 'embeddings' : 'chat';
  const usages = objectsByKey(text, 'usage').filter(
    (u) => count(u, 'prompt_tokens') !== undefined || count(u, 'input_tokens') !== undefined,
  );
  if (usages.length === 0) return { reason: 'no_usage_in_response' };
  const responseModel = stringsByKey(text, 'model').at(-1);
  const serviceTier = stringsByKey(text, 'service_tier').at(-1);
  const cached = maxCount(
    usages.map((u) =>
      count(child(u, 'prompt_tokens_details') ?? child(u, 'input_tokens_details'), 'cached_tokens'),
    ),
  );
  const cacheWrite = maxCount(
    usages.map((u) =>
      count(child(u, 'prompt_tokens_details') ?? child(u, 'input_tokens_details'), 'cache_write_tokens'),
    ),
  );
  const reasoning = maxCount(
    usages.map((u) =>
      count(child(u, 'completion_tokens_details') ?? child(u, 'output_tokens_details'), 'reasoning_tokens'),
    ),
  );
  return {
    usage: {
      ...emptyUsage({ operation }),
      ...(responseModel !== undefined && { responseModel }),
      ...(serviceTier !== undefined && { serviceTier }),
      // Chat counts prompt/completion, Responses counts input/output; both include cached
      // tokens in the input and reasoning tokens in the output.
      inputTokens: maxCount(usages.map((u) => count(u, 'prompt_tokens') ?? count(u, 'input_tokens'))),
      cacheReadTokens: cached,
      cacheWriteTokens: cacheWrite,
      outputTokens: maxCount(usages.map((u) => count(u, 'completion_tokens') ?? count(u, 'output_tokens'))),
      reasoningTokens: reasoning,
    },
  };
}

function extractAnthropic(path: string, text: string): UsageResult {
  if (path.includes('/count_tokens'))
    return { usage: { ...emptyUsage({ operation: 'count_tokens' }), free: true } };
  const usages = objectsByKey(text, 'usage').filter(
    (u) => count(u, 'input_tokens') !== undefined || count(u, 'output_tokens') !== undefined,
  );
  if (usages.length === 0) return { reason: 'no_usage_in_response' };
  // Anthropic's input_tokens excludes cache reads and writes: OTel's input includes them.
  const input = maxCount(usages.map((u) => count(u, 'input_tokens')));
  const cacheRead = maxCount(usages.map((u) => count(u, 'cache_read_input_tokens')));
  const cacheWrite = maxCount(usages.map((u) => count(u, 'cache_creation_input_tokens')));
  const cacheWrite1h = maxCount(
    usages.map((u) => count(child(u, 'cache_creation'), 'ephemeral_1h_input_tokens')),
  );
  // message_start names the model first; later "model" strings are not in Anthropic events.
  const responseModel = stringsByKey(text, 'model')[0];
  const serviceTier = stringsByKey(text, 'service_tier').at(-1);
  return {
    usage: {
      ...emptyUsage({ operation: 'chat' }),
      ...(responseModel !== undefined && { responseModel }),
      ...(serviceTier !== undefined && { serviceTier }),
      inputTokens: input + cacheRead + cacheWrite,
      cacheReadTokens: cacheRead,
      cacheWriteTokens: cacheWrite,
      cacheWrite1hTokens: Math.min(cacheWrite1h, cacheWrite),
      outputTokens: maxCount(usages.map((u) => count(u, 'output_tokens'))),
      reasoningTokens: 0,
    },
  };
}

function emptyUsage(base: { operation: string; requestModel?: string }): TokenUsage {
  return {
    ...base,
    inputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
  };
}

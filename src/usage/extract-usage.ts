import { child, count, objectsByKey, stringsByKey } from './json-fragments.js';
import { maxCount, type TokenUsage, type UsageResult } from './token-usage.js';
import type { UsageEndpoint } from './usage-endpoint.js';

/**
 * Reads token usage from (windows of) the response body of a billed LLM call. Streams are
 * handled by the same code: usage objects repeat running or cumulative totals, so the
 * field-wise maximum over all of them is the final count. Free operations (counting tokens)
 * are answered without reading.
 */
export function extractUsage(endpoint: UsageEndpoint, text: string): UsageResult {
  const base = {
    operation: endpoint.operation,
    ...(endpoint.requestModel !== undefined && { requestModel: endpoint.requestModel }),
  };
  if (endpoint.free) return { usage: { ...emptyUsage(base), free: true } };
  switch (endpoint.format) {
    case 'gemini':
      return extractGemini(base, text);
    case 'openai':
      return extractOpenAi(base, text);
    case 'anthropic':
      return extractAnthropic(base, text);
  }
}

type Base = { operation: string; requestModel?: string };

function extractGemini(base: Base, text: string): UsageResult {
  const metadata = objectsByKey(text, 'usageMetadata');
  if (metadata.length === 0) {
    // The Gemini API reports no usage for embeddings; it is not invented here.
    return { reason: base.operation === 'embeddings' ? 'provider_reports_no_usage' : 'no_usage_in_response' };
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

function extractOpenAi(base: Base, text: string): UsageResult {
  const usages = objectsByKey(text, 'usage').filter(
    (u) => count(u, 'prompt_tokens') !== undefined || count(u, 'input_tokens') !== undefined,
  );
  if (usages.length === 0) return { reason: 'no_usage_in_response' };
  // The first `model` is the response's own: later ones can be a tool's (Responses echoes its
  // tools, and an image generation tool names its model).
  const responseModel = stringsByKey(text, 'model')[0];
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
      ...emptyUsage(base),
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

function extractAnthropic(base: Base, text: string): UsageResult {
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
      ...emptyUsage(base),
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

function emptyUsage(base: Base): TokenUsage {
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

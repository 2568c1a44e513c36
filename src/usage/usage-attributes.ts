import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_ANALYTICS_USAGE_FREE,
  ATTR_ANALYTICS_USAGE_INCOMPLETE,
  ATTR_ANALYTICS_USAGE_RECORDS,
  ATTR_ANALYTICS_USAGE_SERVICE_TIER,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from '../semconv.js';
import type { CaptureKind, RecordsResult, UsageResult } from './token-usage.js';

/**
 * The span attributes of a usage reading: the OTel GenAI ones (so every exporter sees the same
 * facts), plus ours for what GenAI has no name for yet (hour-long cache writes, service tier).
 */
export function usageAttributes(kind: CaptureKind, result: UsageResult | RecordsResult): Attributes {
  if (kind.kind === 'records') {
    if ('records' in result) return { [ATTR_ANALYTICS_USAGE_RECORDS]: result.records };
    return 'reason' in result ? { [ATTR_ANALYTICS_USAGE_UNKNOWN_REASON]: result.reason } : {};
  }
  // What the endpoint says (operation, and the model a Gemini URL names) holds for every
  // attempt, a refused or rate-limited one included.
  const attributes: Attributes = {
    [ATTR_GEN_AI_PROVIDER_NAME]: kind.provider,
    [ATTR_GEN_AI_OPERATION_NAME]: kind.endpoint.operation,
  };
  if (kind.endpoint.requestModel !== undefined) {
    attributes[ATTR_GEN_AI_REQUEST_MODEL] = kind.endpoint.requestModel;
  }
  if ('records' in result) return attributes;
  if ('reason' in result) {
    attributes[ATTR_ANALYTICS_USAGE_UNKNOWN_REASON] = result.reason;
    return attributes;
  }
  const usage = result.usage;
  if (usage.responseModel !== undefined) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = usage.responseModel;
  if (usage.free) {
    attributes[ATTR_ANALYTICS_USAGE_FREE] = true;
    return attributes;
  }
  attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
  attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
  if (usage.cacheReadTokens > 0)
    attributes[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cacheReadTokens;
  if (usage.cacheWriteTokens > 0)
    attributes[ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = usage.cacheWriteTokens;
  if (usage.cacheWrite1hTokens > 0)
    attributes[ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS] = usage.cacheWrite1hTokens;
  if (usage.reasoningTokens > 0)
    attributes[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningTokens;
  if (usage.serviceTier !== undefined) attributes[ATTR_ANALYTICS_USAGE_SERVICE_TIER] = usage.serviceTier;
  if (usage.incomplete) attributes[ATTR_ANALYTICS_USAGE_INCOMPLETE] = true;
  return attributes;
}

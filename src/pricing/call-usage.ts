import {
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_ANALYTICS_USAGE_FREE,
  ATTR_ANALYTICS_USAGE_RECORDS,
  ATTR_ANALYTICS_USAGE_SERVICE_TIER,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '../semconv.js';

/**
 * What an external call used, as far as its price depends on it: the facts `estimateCost` reads,
 * whether they come from a span or from a stored row. Token counts follow OTel GenAI: input
 * includes cache reads and writes, output includes reasoning. A field is absent when the call
 * did not report it (or reported something that is not a count or a name).
 */
export interface CallUsage {
  /** `gen_ai.provider.name`: picks a provider's own rates where a model has several. */
  provider?: string;
  requestModel?: string;
  /** The model that answered; priced before the one requested. */
  responseModel?: string;
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  /** Cache writes, all durations (the 1-hour ones included). */
  cacheWriteTokens?: number;
  /** The part of the cache writes kept for an hour (Anthropic prices it apart). */
  cacheWrite1hTokens?: number;
  /** The service tier the response reported (`default`, `priority`, `flex`...). */
  serviceTier?: string;
  /** Records a dataset download delivered (priced per record). */
  records?: number;
  /** The provider said the call is free. */
  free?: boolean;
  /** Why no usage could be read from the response. */
  unknownReason?: string;
}

/**
 * Reads a {@link CallUsage} through `read`, which gives the value stored for a span attribute
 * name: the one place that says which attribute is which fact and what counts as a valid value,
 * so spans and stored rows are priced alike.
 */
export function readCallUsage(read: (attribute: string) => unknown): CallUsage {
  const usage: CallUsage = {};
  const count = (attribute: string): number | undefined => {
    const value = read(attribute);
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const name = (attribute: string): string | undefined => {
    const value = read(attribute);
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const provider = name(ATTR_GEN_AI_PROVIDER_NAME);
  if (provider !== undefined) usage.provider = provider;
  const requestModel = name(ATTR_GEN_AI_REQUEST_MODEL);
  if (requestModel !== undefined) usage.requestModel = requestModel;
  const responseModel = name(ATTR_GEN_AI_RESPONSE_MODEL);
  if (responseModel !== undefined) usage.responseModel = responseModel;
  const inputTokens = count(ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  if (inputTokens !== undefined) usage.inputTokens = inputTokens;
  const outputTokens = count(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  if (outputTokens !== undefined) usage.outputTokens = outputTokens;
  const cacheReadTokens = count(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS);
  if (cacheReadTokens !== undefined) usage.cacheReadTokens = cacheReadTokens;
  const cacheWriteTokens = count(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS);
  if (cacheWriteTokens !== undefined) usage.cacheWriteTokens = cacheWriteTokens;
  const cacheWrite1hTokens = count(ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS);
  if (cacheWrite1hTokens !== undefined) usage.cacheWrite1hTokens = cacheWrite1hTokens;
  const serviceTier = name(ATTR_ANALYTICS_USAGE_SERVICE_TIER);
  if (serviceTier !== undefined) usage.serviceTier = serviceTier;
  const records = count(ATTR_ANALYTICS_USAGE_RECORDS);
  if (records !== undefined) usage.records = records;
  if (read(ATTR_ANALYTICS_USAGE_FREE) === true) usage.free = true;
  const unknownReason = name(ATTR_ANALYTICS_USAGE_UNKNOWN_REASON);
  if (unknownReason !== undefined) usage.unknownReason = unknownReason;
  return usage;
}

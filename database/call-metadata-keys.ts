import {
  ATTR_ANALYTICS_COST_MODEL,
  ATTR_ANALYTICS_COST_UNKNOWN_REASON,
  ATTR_ANALYTICS_PRICE_CHECKED_AT,
  ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM,
  ATTR_ANALYTICS_PRICE_SOURCE,
  ATTR_ANALYTICS_PRICE_TABLE_VERSION,
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_ANALYTICS_USAGE_FREE,
  ATTR_ANALYTICS_USAGE_INCOMPLETE,
  ATTR_ANALYTICS_USAGE_RECORDS,
  ATTR_ANALYTICS_USAGE_SERVICE_TIER,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from '../src/semconv.js';

/**
 * Which span attribute of an external call is kept under which key of the row's `metadata`:
 * the contract between the row mapping, which writes them, and `reprice`, which reads usage
 * back to price it again.
 */
export const CALL_METADATA_KEYS: Readonly<Record<string, string>> = Object.freeze({
  [ATTR_GEN_AI_PROVIDER_NAME]: 'provider',
  [ATTR_GEN_AI_OPERATION_NAME]: 'operation',
  [ATTR_GEN_AI_REQUEST_MODEL]: 'request_model',
  [ATTR_GEN_AI_RESPONSE_MODEL]: 'response_model',
  // Which conversation and which answer: to find a call in the provider's own logs.
  [ATTR_GEN_AI_CONVERSATION_ID]: 'conversation_id',
  [ATTR_GEN_AI_RESPONSE_ID]: 'response_id',
  [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 'input_tokens',
  [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 'cached_input_tokens',
  [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: 'cache_write_input_tokens',
  [ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS]: 'cache_write_1h_input_tokens',
  [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 'output_tokens',
  [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 'reasoning_tokens',
  [ATTR_ANALYTICS_USAGE_SERVICE_TIER]: 'service_tier',
  [ATTR_ANALYTICS_USAGE_FREE]: 'free',
  [ATTR_ANALYTICS_USAGE_RECORDS]: 'records',
  [ATTR_ANALYTICS_USAGE_INCOMPLETE]: 'usage_incomplete',
  [ATTR_ANALYTICS_USAGE_UNKNOWN_REASON]: 'usage_unknown_reason',
  [ATTR_ANALYTICS_COST_MODEL]: 'cost_model',
  [ATTR_ANALYTICS_COST_UNKNOWN_REASON]: 'cost_unknown_reason',
  [ATTR_ANALYTICS_PRICE_SOURCE]: 'price_source',
  [ATTR_ANALYTICS_PRICE_CHECKED_AT]: 'price_checked_at',
  [ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM]: 'price_effective_from',
  [ATTR_ANALYTICS_PRICE_TABLE_VERSION]: 'price_table_version',
});

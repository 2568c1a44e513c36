import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_ANALYTICS_USAGE_SERVICE_TIER,
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
} from '../semconv.js';
import { count } from '../usage/json-fragments.js';

/** One attribute: our name (what rows and prices read), then the names others give it. */
export type AttributeNames = readonly [string, ...string[]];

/**
 * What a call says about the request itself (`gen_ai.system` is the provider's name before
 * `gen_ai.provider.name`, and what `@opentelemetry/instrumentation-openai` 0.22 still sets).
 */
export const GEN_AI_REQUEST_NAMES: readonly AttributeNames[] = [
  [ATTR_GEN_AI_PROVIDER_NAME, 'gen_ai.system'],
  [ATTR_GEN_AI_OPERATION_NAME],
  [ATTR_GEN_AI_REQUEST_MODEL],
  [ATTR_GEN_AI_CONVERSATION_ID],
];

/** What a call says about the response. */
export const GEN_AI_RESPONSE_NAMES: readonly AttributeNames[] = [
  [ATTR_GEN_AI_RESPONSE_MODEL],
  [ATTR_GEN_AI_RESPONSE_ID],
];

/**
 * Usage counts. Input includes cache reads and writes in all of them, as OTel counts it:
 * `@anthropic-ai/sdk` adds Anthropic's cache counts to its `gen_ai.usage.input_tokens`, and
 * OpenAI's `prompt_tokens` (which `@opentelemetry/instrumentation-openai` sets as input)
 * include cached tokens. The Anthropic SDK names cache writes
 * `gen_ai.usage.cache_write.input_tokens` and the hour-long ones
 * `anthropic.usage.cache_creation.ephemeral_1h_input_tokens`; OpenLLMetry uses
 * `gen_ai.usage.cache_{read,creation}_input_tokens`, older conventions `prompt_tokens` and
 * `completion_tokens`. The first two are the token counts a price needs at least one of.
 */
export const GEN_AI_USAGE_NAMES: readonly [AttributeNames, AttributeNames, ...AttributeNames[]] = [
  [ATTR_GEN_AI_USAGE_INPUT_TOKENS, 'gen_ai.usage.prompt_tokens'],
  [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, 'gen_ai.usage.completion_tokens'],
  [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 'gen_ai.usage.cache_read_input_tokens'],
  [
    ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    'gen_ai.usage.cache_write.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
  ],
  [ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS, 'anthropic.usage.cache_creation.ephemeral_1h_input_tokens'],
  [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS],
];

/** The service tier the response reported, which changes the price. */
export const SERVICE_TIER_NAMES: AttributeNames = [
  ATTR_ANALYTICS_USAGE_SERVICE_TIER,
  'anthropic.response.service_tier',
  'openai.response.service_tier',
];

/** Every name list: the one mapping from others' names to ours. */
const ALL_NAMES: readonly AttributeNames[] = [
  ...GEN_AI_REQUEST_NAMES,
  ...GEN_AI_RESPONSE_NAMES,
  ...GEN_AI_USAGE_NAMES,
  SERVICE_TIER_NAMES,
];
const COUNT_NAMES = new Set<AttributeNames>(GEN_AI_USAGE_NAMES);

/**
 * A call's attributes with the GenAI values it names its own way (an SDK's call span, a GenAI
 * instrumentation's, a span received from another service) also under our names, where ours
 * are missing: what a call span that had no HTTP attempt (its transport not instrumented) is
 * priced and stored from. Only the few attributes rows and prices use; others' names are kept.
 *
 * Pure; returns `attributes` itself when there is nothing to add.
 */
export function adoptGenAiNames(attributes: Attributes): Attributes {
  let adopted: Attributes | undefined;
  for (const names of ALL_NAMES) {
    if (names.length === 1 || attributes[names[0]] !== undefined) continue;
    const value = COUNT_NAMES.has(names) ? firstCount(attributes, names) : firstText(attributes, names);
    if (value !== undefined) (adopted ??= { ...attributes })[names[0]] = value;
  }
  return adopted ?? attributes;
}

/** The first non-empty string under `names`. */
export function firstText(attributes: Attributes, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = attributes[name];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/** The first count (a non-negative safe integer) under `names`. */
export function firstCount(attributes: Attributes, names: readonly string[]): number | undefined {
  for (const name of names) {
    const value = count(attributes, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

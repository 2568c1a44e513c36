import type { Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import {
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_ANALYTICS_USAGE_FREE,
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
import { count } from '../usage/json-fragments.js';

/**
 * What a caller says about the request itself, given to each of its attempts (our names, then
 * the names callers use for them: `gen_ai.system` is the provider's name before
 * `gen_ai.provider.name`, and what `@opentelemetry/instrumentation-openai` 0.22 still sets).
 */
const REQUEST_ATTRIBUTES: ReadonlyArray<readonly [string, ...string[]]> = [
  [ATTR_GEN_AI_PROVIDER_NAME, 'gen_ai.system'],
  [ATTR_GEN_AI_OPERATION_NAME],
  [ATTR_GEN_AI_REQUEST_MODEL],
  ['gen_ai.conversation.id'],
];

/** What a caller says about the response: true of the billed attempt only. */
const RESPONSE_ATTRIBUTES: ReadonlyArray<readonly [string, ...string[]]> = [
  [ATTR_GEN_AI_RESPONSE_MODEL],
  ['gen_ai.response.id'],
];

/**
 * Usage counts as callers name them, under our names. Input includes cache reads and writes
 * in all of them, as OTel counts it: `@anthropic-ai/sdk` adds Anthropic's cache counts to its
 * `gen_ai.usage.input_tokens`, and OpenAI's `prompt_tokens` (which
 * `@opentelemetry/instrumentation-openai` sets as input) include cached tokens. The Anthropic
 * SDK names cache writes `gen_ai.usage.cache_write.input_tokens` and the hour-long ones
 * `anthropic.usage.cache_creation.ephemeral_1h_input_tokens`; OpenLLMetry uses
 * `gen_ai.usage.cache_{read,creation}_input_tokens`, older conventions `prompt_tokens` and
 * `completion_tokens`.
 */
const USAGE_COUNTS: ReadonlyArray<readonly [string, ...string[]]> = [
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
const SERVICE_TIER: readonly [string, ...string[]] = [
  ATTR_ANALYTICS_USAGE_SERVICE_TIER,
  'anthropic.response.service_tier',
  'openai.response.service_tier',
];

/**
 * The attributes of one HTTP attempt completed with what its caller knows: the caller is the
 * span around it that describes the same API call (an SDK's own call span, a GenAI
 * instrumentation's), which becomes no row of its own. Only what the attempt lacks is added,
 * and only from the few GenAI attributes rows and prices use (never prompts or completions):
 *
 * - to every attempt, what was asked: provider, operation, request model, conversation id;
 * - to the billed attempt only (`billed`: the last one answered 2xx), what was answered:
 *   response model and id, and, when the attempt has no usage of its own (none read from its
 *   body, as with spans of other services), the caller's usage and service tier. A cost is
 *   then computed once, from these attributes, for the billed attempt alone; a failed attempt
 *   before it (a 429) keeps no usage.
 *
 * Pure; returns `attempt` itself when there is nothing to add.
 */
export function enrichAttempt(attempt: Attributes, caller: Attributes, billed: boolean): Attributes {
  let merged: Attributes | undefined;
  const add = (name: string, value: Attributes[string]): void => {
    (merged ??= { ...attempt })[name] = value;
  };
  for (const names of billed ? [...REQUEST_ATTRIBUTES, ...RESPONSE_ATTRIBUTES] : REQUEST_ATTRIBUTES) {
    if (attempt[names[0]] !== undefined) continue;
    const value = firstText(caller, names);
    if (value !== undefined) add(names[0], value);
  }
  if (billed && !hasOwnUsage(attempt) && hasTokenCounts(caller)) {
    for (const names of USAGE_COUNTS) {
      const value = firstCount(caller, names);
      if (value !== undefined) add(names[0], value);
    }
    const tier = firstText(caller, SERVICE_TIER);
    if (tier !== undefined && attempt[SERVICE_TIER[0]] === undefined) add(SERVICE_TIER[0], tier);
    // Why the attempt's body gave no usage no longer describes the call: its caller's did.
    if (merged) delete merged[ATTR_ANALYTICS_USAGE_UNKNOWN_REASON];
  }
  return merged ?? attempt;
}

/**
 * Which of a caller's finished attempts was billed: the last one answered 2xx (retries before
 * it failed), or -1 when none was. `attempts` in the order they were made.
 */
export function billedAttemptIndex(attempts: readonly { readonly attributes: Attributes }[]): number {
  for (let i = attempts.length - 1; i >= 0; i--) {
    const status = attempts[i]!.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
    if (typeof status === 'number' && status >= 200 && status < 300) return i;
  }
  return -1;
}

/** Whether the attempt read a usage of its own (tokens, a free call, records). */
function hasOwnUsage(attempt: Attributes): boolean {
  return (
    attempt[ATTR_GEN_AI_USAGE_INPUT_TOKENS] !== undefined ||
    attempt[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] !== undefined ||
    attempt[ATTR_ANALYTICS_USAGE_FREE] === true ||
    attempt[ATTR_ANALYTICS_USAGE_RECORDS] !== undefined
  );
}

function hasTokenCounts(caller: Attributes): boolean {
  return (
    firstCount(caller, USAGE_COUNTS[0]!) !== undefined || firstCount(caller, USAGE_COUNTS[1]!) !== undefined
  );
}

function firstText(attributes: Attributes, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = attributes[name];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

function firstCount(attributes: Attributes, names: readonly string[]): number | undefined {
  for (const name of names) {
    const value = count(attributes, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

import type { Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import {
  ATTR_ANALYTICS_USAGE_FREE,
  ATTR_ANALYTICS_USAGE_RECORDS,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '../semconv.js';
import {
  GEN_AI_REQUEST_NAMES,
  GEN_AI_RESPONSE_NAMES,
  GEN_AI_USAGE_NAMES,
  SERVICE_TIER_NAMES,
  firstCount,
  firstText,
} from './adopt-gen-ai-names.js';

/**
 * The attributes of one HTTP attempt completed with what its caller knows: the caller is the
 * span around it that describes the same API call (an SDK's own call span, a GenAI
 * instrumentation's), which becomes no row of its own. Only what the attempt lacks is added,
 * and only from the few GenAI attributes rows and prices use (never prompts or completions),
 * read under the names callers give them (the lists `adoptGenAiNames` maps for calls that
 * had no attempt):
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
  for (const names of billed ? [...GEN_AI_REQUEST_NAMES, ...GEN_AI_RESPONSE_NAMES] : GEN_AI_REQUEST_NAMES) {
    if (attempt[names[0]] !== undefined) continue;
    const value = firstText(caller, names);
    if (value !== undefined) add(names[0], value);
  }
  if (billed && !hasOwnUsage(attempt) && hasTokenCounts(caller)) {
    for (const names of GEN_AI_USAGE_NAMES) {
      const value = firstCount(caller, names);
      if (value !== undefined) add(names[0], value);
    }
    const tier = firstText(caller, SERVICE_TIER_NAMES);
    if (tier !== undefined && attempt[SERVICE_TIER_NAMES[0]] === undefined) add(SERVICE_TIER_NAMES[0], tier);
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
    firstCount(caller, GEN_AI_USAGE_NAMES[0]) !== undefined ||
    firstCount(caller, GEN_AI_USAGE_NAMES[1]) !== undefined
  );
}

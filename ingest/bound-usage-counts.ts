import type { Attributes } from '@opentelemetry/api';
import { count } from '../src/usage/json-fragments.js';
import {
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_ANALYTICS_USAGE_RECORDS,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from '../src/semconv.js';

/**
 * Most tokens (or records) one call can count: ten times the largest context window offered
 * (10 million tokens), so no real call comes near it and a forged count cannot add more than
 * one such call's cost to the rollups.
 */
export const MAX_USAGE_COUNT_PER_CALL = 100_000_000;

/** Why the counts were dropped, as `analytics.usage.unknown_reason` (and so the cost's reason). */
export const INVALID_USAGE_COUNT = 'invalid_usage_count';

/** The attributes that count what a call used, and from which its cost is computed. */
const USAGE_COUNTS = [
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_ANALYTICS_USAGE_RECORDS,
];

/**
 * Usage counts of a span received from another service, held to what a call can count: each
 * a whole number from 0 (the rule in-process usage reading applies to a provider's response)
 * to {@link MAX_USAGE_COUNT_PER_CALL}. When one is not, none of them is kept (a call whose
 * output is `-5` says nothing trustworthy about its input either), and
 * `analytics.usage.unknown_reason` says `invalid_usage_count`: the row keeps the reason, no
 * tokens reach the rollups, and the cost is unknown rather than computed from them. Pure;
 * returns the same object when nothing is wrong.
 */
export function boundUsageCounts(attributes: Attributes): Attributes {
  const valid = USAGE_COUNTS.every((name) => {
    const value = attributes[name];
    if (value === undefined) return true;
    const n = count(attributes, name);
    return n !== undefined && n <= MAX_USAGE_COUNT_PER_CALL;
  });
  if (valid) return attributes;
  const bounded: Attributes = { ...attributes, [ATTR_ANALYTICS_USAGE_UNKNOWN_REASON]: INVALID_USAGE_COUNT };
  for (const name of USAGE_COUNTS) delete bounded[name];
  return bounded;
}

import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import type { ServiceCatalog } from '../pricing/service-catalog.js';
import { serviceOfCall } from '../pricing/service-of-call.js';
import {
  ATTR_ANALYTICS_USAGE_FREE,
  ATTR_ANALYTICS_USAGE_RECORDS,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_GEN_AI_PROVIDER_NAME,
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

/** The names a caller gives its provider. */
const PROVIDER_NAMES = GEN_AI_REQUEST_NAMES[0]!;
/** The name an attempt's provider has: ours, set by the usage capture or by a caller. */
const OWN_PROVIDER_NAMES = [ATTR_GEN_AI_PROVIDER_NAME];

/**
 * The attributes of one HTTP attempt completed with what its caller knows: the caller is the
 * span around it that describes the same API call (an SDK's own call span, a GenAI
 * instrumentation's), which becomes no row of its own. Only an attempt to the caller's
 * provider is completed ({@link goesToCallersProvider}): another one made inside the caller
 * (a tool call, a token fetch) is another call. Only what the attempt lacks is added, and only
 * from the few GenAI attributes rows and prices use (never prompts or completions), read under
 * the names callers give them (the lists `adoptGenAiNames` maps for calls that had no attempt):
 *
 * - to every attempt, what was asked: provider, operation, request model, conversation id;
 * - to the billed attempt only (`billed`: see {@link billedAttemptIndex}), what was answered:
 *   response model and id, and, when the attempt has no usage of its own (none read from its
 *   body, as with spans of other services), the caller's usage and service tier. A cost is
 *   then computed once, from these attributes, for the billed attempt alone; a failed attempt
 *   before it (a 429) keeps no usage.
 *
 * Pure; returns `attempt` itself when there is nothing to add.
 */
export function enrichAttempt(
  attempt: Attributes,
  caller: Attributes,
  catalog: ServiceCatalog,
  billed: boolean,
): Attributes {
  if (!goesToCallersProvider(attempt, caller, catalog)) return attempt;
  let merged: Attributes | undefined;
  const add = (name: string, value: Attributes[string]): void => {
    (merged ??= { ...attempt })[name] = value;
  };
  for (const names of billed ? [...GEN_AI_REQUEST_NAMES, ...GEN_AI_RESPONSE_NAMES] : GEN_AI_REQUEST_NAMES) {
    if (attempt[names[0]] !== undefined) continue;
    const value = firstText(caller, names);
    if (value !== undefined) add(names[0], value);
  }
  if (billed && !carriesUsage(attempt) && hasTokenCounts(caller)) {
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
 * Which of a caller's finished attempts was billed: the last one answered 2xx among those to
 * the caller's provider (retries before it failed; attempts to other hosts are other calls),
 * or -1 when none was. `attempts` in the order they were made.
 */
export function billedAttemptIndex(
  attempts: readonly { readonly attributes: Attributes }[],
  caller: Attributes,
  catalog: ServiceCatalog,
): number {
  for (let i = attempts.length - 1; i >= 0; i--) {
    const attributes = attempts[i]!.attributes;
    const status = attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
    if (typeof status !== 'number' || status < 200 || status >= 300) continue;
    if (goesToCallersProvider(attributes, caller, catalog)) return i;
  }
  return -1;
}

/**
 * Whether an attempt made inside a caller is that caller's API call (its first try or a
 * retry), rather than another call made while it ran (a tool call, a token fetch, a download):
 * it went to the host the caller names (`server.address`, else the host of `url.full`: an SDK's
 * span names the base URL it sends to, a gateway's included), or to the GenAI provider the
 * caller names (`gen_ai.provider.name` or `gen_ai.system`), by the attempt's own
 * `gen_ai.provider.name` (what our usage capture sets from the catalog) or else the catalog's
 * provider for its host (spans of other services, read by nothing of ours). Without either
 * match it is not the caller's: a caller's answer and usage on another call would price that
 * call with them.
 */
export function goesToCallersProvider(
  attempt: Attributes,
  caller: Attributes,
  catalog: ServiceCatalog,
): boolean {
  const host = hostOf(attempt);
  if (host !== undefined && host === hostOf(caller)) return true;
  const callerProvider = firstText(caller, PROVIDER_NAMES);
  return callerProvider !== undefined && providerOf(attempt, catalog) === callerProvider;
}

/**
 * What {@link goesToCallersProvider} reads of an attempt, kept for a caller not seen yet: the
 * host it went to and its GenAI provider.
 */
export interface AttemptTarget {
  readonly host: string | undefined;
  readonly provider: string | undefined;
}

/** Where an attempt went, for {@link isCallersTarget} once its caller is known. */
export function attemptTarget(attempt: Attributes, catalog: ServiceCatalog): AttemptTarget {
  return { host: hostOf(attempt), provider: providerOf(attempt, catalog) };
}

/** {@link goesToCallersProvider} for an attempt known by its {@link attemptTarget}. */
export function isCallersTarget(target: AttemptTarget, caller: Attributes): boolean {
  if (target.host !== undefined && target.host === hostOf(caller)) return true;
  const callerProvider = firstText(caller, PROVIDER_NAMES);
  return callerProvider !== undefined && target.provider === callerProvider;
}

/** Whether an attempt carries a usage to price (tokens, a free call, records), its own or its caller's. */
export function carriesUsage(attempt: Attributes): boolean {
  return (
    attempt[ATTR_GEN_AI_USAGE_INPUT_TOKENS] !== undefined ||
    attempt[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] !== undefined ||
    attempt[ATTR_ANALYTICS_USAGE_FREE] === true ||
    attempt[ATTR_ANALYTICS_USAGE_RECORDS] !== undefined
  );
}

/** The host a call went to, lower case. */
function hostOf(attributes: Attributes): string | undefined {
  const address = attributes[ATTR_SERVER_ADDRESS];
  if (typeof address === 'string' && address.length > 0) return address.toLowerCase();
  const full = attributes[ATTR_URL_FULL];
  if (typeof full !== 'string') return undefined;
  try {
    // `[::1]` in a URL is `::1` in `server.address`.
    return new URL(full).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1') || undefined;
  } catch {
    return undefined;
  }
}

/** The provider a call went to: its own `gen_ai.provider.name`, else the catalog's for its host. */
function providerOf(attempt: Attributes, catalog: ServiceCatalog): string | undefined {
  return firstText(attempt, OWN_PROVIDER_NAMES) ?? serviceOfCall(catalog, attempt)?.genAiProvider;
}

function hasTokenCounts(caller: Attributes): boolean {
  return (
    firstCount(caller, GEN_AI_USAGE_NAMES[0]) !== undefined ||
    firstCount(caller, GEN_AI_USAGE_NAMES[1]) !== undefined
  );
}

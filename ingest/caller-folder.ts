import { SpanKind, type Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD } from '@opentelemetry/semantic-conventions';
import { ServiceCatalog } from '../src/pricing/service-catalog.js';
import {
  billedAttemptIndex,
  enrichAttempt,
  goesToCallersProvider,
  isCallersTarget,
  type AttemptTarget,
} from '../src/processors/enrich-attempt.js';
import { deriveSpan } from '../src/processors/derive-span.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import { boundUsageCounts } from './bound-usage-counts.js';
import {
  MAX_REMEMBERED_ANCESTORS,
  MissedAncestors,
  mergeMissed,
  type MissedAncestor,
} from './missed-ancestors.js';
import { resourceIdentity } from './resource-identity.js';

/** Parents followed up from one span: deeper nesting than any SDK makes. */
const MAX_DEPTH = 32;

/** A batch with its callers folded into their attempts. */
export interface FoldedBatch {
  /** The batch without its callers, with their attempts completed; the same array when it has none. */
  readonly spans: readonly ReadableSpanLike[];
  /**
   * Updates the memory of ancestors with this batch: call it once the batch is taken, and not
   * when it is refused, so that the sender's retry of the same batch folds the same way.
   */
  commit(): void;
}

/**
 * One row per HTTP attempt, for spans received from other services. A CLIENT span that is an
 * ancestor of a CLIENT span with an HTTP method (an attempt), following `parentSpanId` within
 * the batch, the trace and the attempt's process, is that call's caller (an SDK's own call
 * span, a GenAI instrumentation's). The nearest caller of attempts becomes no row when one of
 * them belongs to its call (went to its host or provider: {@link goesToCallersProvider}); the
 * attempts it is the nearest caller of are then completed with what it knows
 * ({@link enrichAttempt}), its usage going to the billed attempt (the last answered 2xx to its
 * provider) when that one has none: attempts of other services rarely read their own. A caller
 * whose attempts are all other calls (an SDK whose only traced HTTP is a token fetch, its model
 * call going over a transport not instrumented) is a row itself, as one with no attempt at all,
 * and those attempts are ordinary calls. A CLIENT span above a caller of attempts is the same
 * call again: no row, whatever its attempts.
 *
 * A process ends where the walk up stops: at a SERVER or CONSUMER span (a request or message
 * received: what is above it was sent by someone else) and at a parent of another resource
 * (its resource attributes differ). Above that, another service's attempt is no caller of
 * these attempts, whatever its kind.
 *
 * Exporters send spans as they end, and a caller ends after its attempts, so it can arrive in
 * a later batch. The ids of attempts' ancestors that were missing from their batch are
 * remembered with the resource they were missed from and, while the attempts' nearest caller
 * is still to come, where those attempts went (the last {@link MAX_REMEMBERED_ANCESTORS},
 * oldest forgotten first, and each forgotten once its span has come). A CLIENT span of that
 * resource arriving later under one of them is dropped all the same when those attempts were
 * its call, or when it is above their caller; by then its attempts are written, so it can no
 * longer complete them (their usage, if they read none, stays unknown). The memory is this
 * process's: behind several receivers, a caller that reaches another replica than its attempts
 * is a row of its own. A caller sent before its attempts (in an earlier batch) is a row too,
 * since nothing is held across batches.
 */
export class CallerFolder {
  readonly #remembered: MissedAncestors;
  readonly #catalog: ServiceCatalog;

  /**
   * @param catalog the services, which say the provider an attempt went to.
   * @param maxRemembered how many missing ancestors' ids are remembered across batches.
   */
  constructor(
    catalog: ServiceCatalog = new ServiceCatalog(),
    maxRemembered: number = MAX_REMEMBERED_ANCESTORS,
  ) {
    this.#catalog = catalog;
    this.#remembered = new MissedAncestors(catalog, maxRemembered);
  }

  /** Folds the callers of one received batch; the memory of ancestors changes on `commit`. */
  fold(spans: readonly ReadableSpanLike[]): FoldedBatch {
    const catalog = this.#catalog;
    const byKey = new Map<string, ReadableSpanLike>();
    for (const span of spans) byKey.set(keyOf(span), span);
    const identities = new Map<Attributes, string>();
    const identityOf = (span: ReadableSpanLike): string => {
      let identity = identities.get(span.resource.attributes);
      if (identity === undefined) {
        identity = resourceIdentity(span.resource.attributes);
        identities.set(span.resource.attributes, identity);
      }
      return identity;
    };
    /** Remembered ids whose span came in this batch: forgotten on commit. */
    const arrived: string[] = [];
    const missing = new Map<string, MissedAncestor>();
    /** CLIENT spans of this batch that are no row. */
    const callers = new Set<ReadableSpanLike>();
    /** Each attempt's nearest caller in this batch. */
    const callerOf = new Map<ReadableSpanLike, ReadableSpanLike>();

    /**
     * `caller` is the nearest caller of `attempt` (of this batch) or of attempts of earlier
     * batches that went to `targets` (`undefined`: not known apart, so taken as its call).
     */
    const claim = (
      caller: ReadableSpanLike,
      attempt: ReadableSpanLike | undefined,
      targets: readonly AttemptTarget[] | undefined,
    ): void => {
      let owns: boolean;
      if (attempt !== undefined) {
        callerOf.set(attempt, caller);
        owns = goesToCallersProvider(attempt.attributes, caller.attributes, catalog);
      } else {
        owns = targets === undefined || targets.some((target) => isCallersTarget(target, caller.attributes));
      }
      if (owns) callers.add(caller);
    };

    /**
     * Follows parents up from `from` within its process. Until a CLIENT span is met, `attempt`
     * (of this batch) or `targets` (of earlier batches' attempts) seek their nearest caller;
     * with neither, a caller was met below, and every CLIENT span above is no row.
     */
    const walkUp = (
      from: ReadableSpanLike,
      attempt: ReadableSpanLike | undefined,
      targets: readonly AttemptTarget[] | undefined,
    ): void => {
      let seeking = attempt !== undefined || targets !== undefined;
      const identity = identityOf(from);
      const { traceId } = from.spanContext();
      let parentId = from.parentSpanContext?.spanId;
      for (let depth = 0; parentId !== undefined && depth < MAX_DEPTH; depth++) {
        const parentKey = `${traceId}/${parentId}`;
        const parent = byKey.get(parentKey);
        if (parent === undefined) {
          const seekers = !seeking ? undefined : (targets ?? this.#remembered.targetsOf(attempt!.attributes));
          noteMissing(missing, parentKey, { identity, targets: seekers });
          break;
        }
        if (isProcessEntry(parent) || identityOf(parent) !== identity) break;
        if (parent.kind === SpanKind.CLIENT) {
          if (seeking) claim(parent, attempt, targets);
          else callers.add(parent);
          seeking = false;
        }
        parentId = parent.parentSpanContext?.spanId;
      }
    };

    for (const span of spans) {
      const key = keyOf(span);
      const missed = this.#remembered.get(key);
      if (missed !== undefined) {
        arrived.push(key);
        // Above an attempt of an earlier batch, in the same process.
        if (!isProcessEntry(span) && missed.identity === identityOf(span)) {
          if (span.kind === SpanKind.CLIENT) {
            claim(span, undefined, missed.targets);
            walkUp(span, undefined, undefined);
          } else {
            walkUp(span, undefined, missed.targets);
          }
        }
      }
      if (isAttempt(span)) walkUp(span, span, undefined);
    }
    const commit = (): void => {
      for (const key of arrived) this.#remembered.forget(key);
      for (const [key, missed] of missing) this.#remembered.remember(key, missed);
    };
    if (callers.size === 0) return { spans, commit };

    const attemptsOf = new Map<ReadableSpanLike, ReadableSpanLike[]>();
    for (const span of spans) {
      const caller = callerOf.get(span);
      // A caller that is a row owns none of its attempts: they stay as they came.
      if (caller === undefined || !callers.has(caller) || callers.has(span)) continue;
      const list = attemptsOf.get(caller);
      if (list) list.push(span);
      else attemptsOf.set(caller, [span]);
    }
    const completed = new Map<ReadableSpanLike, ReadableSpanLike>();
    for (const [caller, attempts] of attemptsOf) {
      // In the order they were made (a stable sort: the batch's order breaks ties).
      attempts.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
      const billed = billedAttemptIndex(attempts, caller.attributes, catalog);
      attempts.forEach((attempt, i) => {
        const attributes = enrichAttempt(attempt.attributes, caller.attributes, catalog, i === billed);
        if (attributes === attempt.attributes) return;
        // The caller's counts came under names the receiver did not bound: bound them as ours.
        completed.set(attempt, deriveSpan(attempt, {}, undefined, boundUsageCounts(attributes)));
      });
    }
    const out: ReadableSpanLike[] = [];
    for (const span of spans) if (!callers.has(span)) out.push(completed.get(span) ?? span);
    return { spans: out, commit };
  }
}

/** Adds what one walk up found missing to a batch's missing ancestors. */
function noteMissing(missing: Map<string, MissedAncestor>, key: string, missed: MissedAncestor): void {
  const known = missing.get(key);
  if (known === undefined) missing.set(key, missed);
  else if (known.identity === missed.identity) missing.set(key, mergeMissed(known, missed));
}

function keyOf(span: ReadableSpanLike): string {
  const { traceId, spanId } = span.spanContext();
  return `${traceId}/${spanId}`;
}

/** A CLIENT span with an HTTP method (the stable name is filled in from the old one by now). */
function isAttempt(span: ReadableSpanLike): boolean {
  const method = span.attributes[ATTR_HTTP_REQUEST_METHOD];
  return span.kind === SpanKind.CLIENT && typeof method === 'string' && method.length > 0;
}

/** A request or message received: where a process's part of a trace begins. */
function isProcessEntry(span: ReadableSpanLike): boolean {
  return span.kind === SpanKind.SERVER || span.kind === SpanKind.CONSUMER;
}

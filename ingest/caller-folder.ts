import { SpanKind, type Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD } from '@opentelemetry/semantic-conventions';
import { ServiceCatalog } from '../src/pricing/service-catalog.js';
import { billedAttemptIndex, enrichAttempt } from '../src/processors/enrich-attempt.js';
import { deriveSpan } from '../src/processors/derive-span.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import { boundUsageCounts } from './bound-usage-counts.js';
import { resourceIdentity } from './resource-identity.js';

/** Span ids of earlier batches' attempt ancestors remembered (a few MB of keys at most). */
export const MAX_REMEMBERED_ANCESTORS = 50_000;
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
 * span, a GenAI instrumentation's): it becomes no row, and the attempts it is the nearest
 * caller of are completed with what it knows ({@link enrichAttempt}), its usage going to the
 * billed attempt (the last answered 2xx to its provider) when that one has none: attempts of
 * other services rarely read their own.
 *
 * A process ends where the walk up stops: at a SERVER or CONSUMER span (a request or message
 * received: what is above it was sent by someone else) and at a parent of another resource
 * (its resource attributes differ). Above that, another service's attempt is no caller of
 * these attempts, whatever its kind.
 *
 * Exporters send spans as they end, and a caller ends after its attempts, so it can arrive in
 * a later batch. The ids of attempts' ancestors that were missing from their batch are
 * remembered with the resource they were missed from (the last
 * {@link MAX_REMEMBERED_ANCESTORS}, oldest forgotten first, and each forgotten once its span
 * has come); a CLIENT span of that resource arriving later under one of them is dropped all
 * the same, but by then its attempts are written, so it can no longer complete them (their
 * usage, if they read none, stays unknown). The memory is this process's: behind several
 * receivers, a caller that reaches another replica than its attempts is a row of its own. A
 * caller sent before its attempts (in an earlier batch) is a row too, since nothing is held
 * across batches.
 */
export class CallerFolder {
  /**
   * `traceId/spanId` of attempt ancestors not yet seen, oldest first, with the resource
   * identity of the spans that named them as parent.
   */
  readonly #remembered = new Map<string, string>();
  readonly #catalog: ServiceCatalog;
  readonly #maxRemembered: number;

  /**
   * @param catalog the services, which say the provider an attempt went to.
   * @param maxRemembered how many missing ancestors' ids are remembered across batches.
   */
  constructor(
    catalog: ServiceCatalog = new ServiceCatalog(),
    maxRemembered: number = MAX_REMEMBERED_ANCESTORS,
  ) {
    this.#catalog = catalog;
    this.#maxRemembered = maxRemembered;
  }

  /** Folds the callers of one received batch; the memory of ancestors changes on `commit`. */
  fold(spans: readonly ReadableSpanLike[]): FoldedBatch {
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
    const missing = new Map<string, string>();
    /** Spans of this batch above an attempt within its process. */
    const ancestors = new Set<ReadableSpanLike>();
    const callerOf = new Map<ReadableSpanLike, ReadableSpanLike>();
    for (const span of spans) {
      const key = keyOf(span);
      const missedBy = this.#remembered.get(key);
      if (missedBy !== undefined) arrived.push(key);
      // Above an attempt of an earlier batch, in the same process.
      const above = missedBy !== undefined && !isProcessEntry(span) && missedBy === identityOf(span);
      if (above) ancestors.add(span);
      const attempt = isAttempt(span);
      if (!attempt && !above) continue;
      const identity = identityOf(span);
      const { traceId } = span.spanContext();
      let parentId = span.parentSpanContext?.spanId;
      for (let depth = 0; parentId !== undefined && depth < MAX_DEPTH; depth++) {
        const parentKey = `${traceId}/${parentId}`;
        const parent = byKey.get(parentKey);
        if (parent === undefined) {
          missing.set(parentKey, identity);
          break;
        }
        if (isProcessEntry(parent) || identityOf(parent) !== identity) break;
        ancestors.add(parent);
        if (attempt && !callerOf.has(span) && parent.kind === SpanKind.CLIENT) callerOf.set(span, parent);
        parentId = parent.parentSpanContext?.spanId;
      }
    }
    const commit = (): void => {
      for (const key of arrived) this.#remembered.delete(key);
      for (const [key, identity] of missing) this.#remember(key, identity);
    };
    const isCaller = (span: ReadableSpanLike): boolean =>
      span.kind === SpanKind.CLIENT && ancestors.has(span);
    if (!spans.some(isCaller)) return { spans, commit };

    const attemptsOf = new Map<ReadableSpanLike, ReadableSpanLike[]>();
    for (const span of spans) {
      const caller = callerOf.get(span);
      if (caller === undefined || isCaller(span)) continue;
      const list = attemptsOf.get(caller);
      if (list) list.push(span);
      else attemptsOf.set(caller, [span]);
    }
    const completed = new Map<ReadableSpanLike, ReadableSpanLike>();
    for (const [caller, attempts] of attemptsOf) {
      // In the order they were made (a stable sort: the batch's order breaks ties).
      attempts.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
      const billed = billedAttemptIndex(attempts, caller.attributes, this.#catalog);
      attempts.forEach((attempt, i) => {
        const attributes = enrichAttempt(attempt.attributes, caller.attributes, this.#catalog, i === billed);
        if (attributes === attempt.attributes) return;
        // The caller's counts came under names the receiver did not bound: bound them as ours.
        completed.set(attempt, deriveSpan(attempt, {}, undefined, boundUsageCounts(attributes)));
      });
    }
    const out: ReadableSpanLike[] = [];
    for (const span of spans) if (!isCaller(span)) out.push(completed.get(span) ?? span);
    return { spans: out, commit };
  }

  #remember(key: string, identity: string): void {
    if (this.#remembered.has(key)) return;
    this.#remembered.set(key, identity);
    if (this.#remembered.size > this.#maxRemembered) {
      this.#remembered.delete(this.#remembered.keys().next().value!);
    }
  }
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

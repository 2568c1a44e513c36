import { SpanKind } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD } from '@opentelemetry/semantic-conventions';
import { ServiceCatalog } from '../src/pricing/service-catalog.js';
import { billedAttemptIndex, enrichAttempt } from '../src/processors/enrich-attempt.js';
import { deriveSpan } from '../src/processors/derive-span.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import { boundUsageCounts } from './bound-usage-counts.js';

/** Span ids of earlier batches' attempt ancestors remembered (a few MB of keys at most). */
export const MAX_REMEMBERED_ANCESTORS = 50_000;
/** Parents followed up from one span: deeper nesting than any SDK makes. */
const MAX_DEPTH = 32;

/**
 * One row per HTTP attempt, for spans received from other services. A CLIENT span that is an
 * ancestor of a CLIENT span with an HTTP method (an attempt), following `parentSpanId` within
 * the batch and the trace, is that call's caller (an SDK's own call span, a GenAI
 * instrumentation's): it becomes no row, and the attempts it is the nearest caller of are
 * completed with what it knows ({@link enrichAttempt}), its usage going to the billed attempt
 * (the last answered 2xx to its provider) when that one has none: attempts of other services
 * rarely read their own.
 *
 * Exporters send spans as they end, and a caller ends after its attempts, so it can arrive in
 * a later batch. The ids of attempts' ancestors that were missing from their batch are
 * remembered (the last {@link MAX_REMEMBERED_ANCESTORS}, oldest forgotten first), and a CLIENT
 * span arriving later under one of them is dropped all the same; but by then its attempts are
 * written, so it can no longer complete them (their usage, if they read none, stays unknown).
 * The memory is this process's: behind several receivers, a caller that reaches another
 * replica than its attempts is a row of its own. A caller sent before its attempts (in an
 * earlier batch) is a row too, since nothing is held across batches.
 */
export class CallerFolder {
  /** `traceId/spanId` of attempt ancestors not yet seen, oldest first. */
  readonly #remembered = new Set<string>();
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

  /** The batch without its callers, with their attempts completed; the same array when it has none. */
  fold(spans: readonly ReadableSpanLike[]): readonly ReadableSpanLike[] {
    const byKey = new Map<string, ReadableSpanLike>();
    for (const span of spans) byKey.set(keyOf(span), span);
    const ancestors = new Set<string>();
    const callerOf = new Map<ReadableSpanLike, ReadableSpanLike>();
    for (const span of spans) {
      const attempt = isAttempt(span);
      if (!attempt && !this.#remembered.has(keyOf(span))) continue;
      const { traceId } = span.spanContext();
      let parentId = span.parentSpanContext?.spanId;
      for (let depth = 0; parentId !== undefined && depth < MAX_DEPTH; depth++) {
        const key = `${traceId}/${parentId}`;
        ancestors.add(key);
        const parent = byKey.get(key);
        if (parent === undefined) {
          this.#remember(key);
          break;
        }
        if (attempt && !callerOf.has(span) && parent.kind === SpanKind.CLIENT) callerOf.set(span, parent);
        parentId = parent.parentSpanContext?.spanId;
      }
    }
    const isCaller = (span: ReadableSpanLike): boolean =>
      span.kind === SpanKind.CLIENT && (ancestors.has(keyOf(span)) || this.#remembered.has(keyOf(span)));
    if (!spans.some(isCaller)) return spans;

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
    return out;
  }

  #remember(key: string): void {
    if (this.#remembered.has(key)) return;
    this.#remembered.add(key);
    if (this.#remembered.size > this.#maxRemembered) {
      this.#remembered.delete(this.#remembered.values().next().value!);
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

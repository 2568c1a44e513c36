import { trace, type Attributes, type Context } from '@opentelemetry/api';
import { isCallerCandidate, isHttpAttempt, type SpanRoleView } from '../spans/classify-span.js';
import type { RateLimitedReporter } from '../support/diag.js';
import type { ServiceCatalog } from '../pricing/service-catalog.js';
import type { ReadableSpanLike, SpanLike } from '../span-types.js';
import { billedAttemptIndex, carriesUsage, enrichAttempt, goesToCallersProvider } from './enrich-attempt.js';

/** The bookkeeping of a caller that had attempts, kept on its span. */
class TrackedCaller {
  /** Attempts started under it and not yet ended (nor recorded as incomplete). */
  openAttempts = 0;
  ended = false;
  /**
   * An attempt of its own call (to its host or provider: {@link goesToCallersProvider}) started
   * under it, or it is around a caller that had attempts (the same call again): it is no row.
   */
  ownsAttempt = false;
  /**
   * It ended owning no attempt (its only traced HTTP was another call, a token fetch, while its
   * own went over a transport not instrumented): a row itself, and its attempts are ordinary
   * calls, neither held nor completed by it.
   */
  isRow = false;
  /** Finished attempts waiting for the caller to end and its other attempts to finish. */
  held: ReadableSpanLike[] | undefined;
  holdTimer: NodeJS.Timeout | undefined;
  /**
   * The billed attempt went out carrying a usage (its own, or the caller's): no later attempt
   * gets the caller's usage, so the call is priced once. One released before the caller ended
   * may have gone without any (the caller had none yet): then a later attempt can still take it.
   */
  usagePriced = false;

  /**
   * `span` is the caller's own span: live until it ends, so its attributes are read at release.
   * A span of another SDK than ours may not expose them.
   */
  constructor(readonly span: { readonly attributes?: Attributes | undefined }) {}
}

/** Spans as this tracker keeps its links and bookkeeping on them, under its own symbols. */
type Linked = SpanRoleView & {
  readonly attributes?: Attributes | undefined;
  /** What the SDK's spans (`ReadableSpan`) say once ended; a span of another SDK may not. */
  readonly ended?: boolean | undefined;
  [key: symbol]: unknown;
};

const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** A caller holds at most this many finished attempts; the oldest goes on when one more comes. */
const MAX_HELD_PER_CALLER = 32;
/** At most this many callers hold attempts at once; past it attempts go on at once. */
const MAX_HOLDING_CALLERS = 10_000;
/** Callers nested deeper than this around one attempt are not told they had attempts. */
const MAX_CALLER_DEPTH = 8;

/**
 * One row per HTTP attempt: finds, for the attempts of this process (instrumentation-http and
 * -undici CLIENT spans), their caller (the nearest CLIENT span of any other instrumentation
 * around them: an SDK's own call span, a GenAI instrumentation's), holds finished attempts
 * until their caller ends, and hands them back completed with what the caller knows
 * ({@link enrichAttempt}). A caller is no row when an attempt of its own call (to its host or
 * provider) started under it before it ended, or a caller inside it had attempts. One that
 * owned none by its end is a row itself, as one with no attempt at all (an SDK whose transport
 * is not instrumented): its attempts, if any, were other calls (a token fetch, a tool) and go
 * on as they are; an attempt that starts under it later is an ordinary call too.
 *
 * Links and bookkeeping live on the spans themselves, under symbols of this instance (as the
 * processor's own; see `request-state.ts`): a span with no caller around it costs a context
 * lookup and two property reads, and allocates nothing. Whether an attempt is its caller's own
 * is asked only until the caller owns one.
 */
export class CallerTracker {
  /** On any span under a caller: that (nearest) caller's span. */
  readonly #linkKey = Symbol('otel-pg-analytics.caller-link');
  /** On a caller's span, once an attempt started under it: its {@link TrackedCaller}. */
  readonly #callerKey = Symbol('otel-pg-analytics.tracked-caller');
  readonly #holding = new Set<TrackedCaller>();
  readonly #holdMillis: number;
  readonly #catalog: ServiceCatalog;
  readonly #release: (attempt: ReadableSpanLike, attributes: Attributes) => void;
  readonly #reporter: RateLimitedReporter;

  /**
   * @param holdMillis how long finished attempts wait for their caller to end.
   * @param catalog the services, which say the provider an attempt went to.
   * @param release where attempts go once their caller is done with them: the attempt's own
   *   span, and its attributes completed with the caller's.
   */
  constructor(
    holdMillis: number,
    catalog: ServiceCatalog,
    release: (attempt: ReadableSpanLike, attributes: Attributes) => void,
    reporter: RateLimitedReporter,
  ) {
    this.#holdMillis = holdMillis;
    this.#catalog = catalog;
    this.#release = release;
    this.#reporter = reporter;
  }

  /**
   * At a span's start: links it to the nearest caller around it; counts an attempt on it. A
   * caller that has ended is none: it is a row already, or its attempts have gone.
   */
  link(span: SpanLike, parentContext: Context): void {
    const parent = trace.getSpan(parentContext) as Linked | undefined;
    if (parent === undefined) return;
    const caller = isCallerCandidate(parent) ? parent : (parent[this.#linkKey] as Linked | undefined);
    if (caller === undefined || caller.ended === true || this.#trackedOf(caller)?.ended === true) return;
    (span as unknown as Linked)[this.#linkKey] = caller;
    if (isHttpAttempt(span)) this.#startAttempt(caller, span.attributes);
  }

  /**
   * At a span's end: whether it is a caller that owns an attempt, and so no row. Its attempts
   * go once the last of them has finished too. One that owns none is a row: its attempts go at
   * once, as they are.
   */
  endCaller(span: ReadableSpanLike): boolean {
    const tracked = this.#trackedOf(span);
    if (tracked === undefined) return false;
    tracked.ended = true;
    // Its own attributes are complete now: an SDK may name its host or provider only as it ends.
    const held = tracked.held;
    for (let i = 0; held !== undefined && i < held.length && !tracked.ownsAttempt; i++) {
      this.#noteOwn(tracked, held[i]!.attributes);
    }
    if (!tracked.ownsAttempt) tracked.isRow = true;
    if (tracked.isRow || tracked.openAttempts === 0) this.#releaseHeld(tracked);
    return tracked.ownsAttempt;
  }

  /**
   * Whether an attempt of its own call started under this (still open) span: then it is no row,
   * however long it stays open. Until then it may still become one.
   */
  ownsAttempt(span: ReadableSpanLike): boolean {
    return this.#trackedOf(span)?.ownsAttempt === true;
  }

  /** At an attempt's end: whether its caller holds it (it comes back through `release`). */
  holdAttempt(span: ReadableSpanLike): boolean {
    const tracked = this.#callerOfAttempt(span);
    if (tracked === undefined) return false;
    tracked.openAttempts = Math.max(0, tracked.openAttempts - 1);
    // Its attributes are complete now (those its usage capture sets from the response included).
    this.#noteOwn(tracked, span.attributes);
    const held = (tracked.held ??= []);
    if (held.length >= MAX_HELD_PER_CALLER) {
      // Never as the billed one: the last 2xx is likely later. Were it the billed one after all,
      // the caller's usage would find no attempt: lost, never counted twice.
      const oldest = held.shift()!;
      this.#release(oldest, this.#complete(oldest, tracked, false));
    }
    held.push(span);
    if (tracked.ended && tracked.openAttempts === 0) {
      this.#releaseHeld(tracked);
    } else if (!tracked.holdTimer) {
      if (this.#holding.size >= MAX_HOLDING_CALLERS) {
        this.#reporter.error(
          'holding callers',
          `otel-pg-analytics: more than ${MAX_HOLDING_CALLERS} SDK calls hold their HTTP attempts; attempts beyond that are recorded before their call ends`,
        );
        this.#releaseHeld(tracked);
        return true;
      }
      this.#holding.add(tracked);
      tracked.holdTimer = setTimeout(() => this.#releaseHeld(tracked), this.#holdMillis);
      tracked.holdTimer.unref();
    }
    return true;
  }

  /**
   * For an attempt still open that is recorded as it stands: its attributes completed with its
   * caller's (never as the billed one), or `undefined` when it has no caller. Its caller no
   * longer waits for it.
   */
  abandonAttempt(span: ReadableSpanLike): Attributes | undefined {
    const tracked = this.#callerOfAttempt(span);
    if (tracked === undefined) return undefined;
    tracked.openAttempts = Math.max(0, tracked.openAttempts - 1);
    this.#noteOwn(tracked, span.attributes);
    const attributes = this.#complete(span, tracked, false);
    if (tracked.ended && tracked.openAttempts === 0) this.#releaseHeld(tracked);
    return attributes;
  }

  /** Releases every held attempt (forceFlush, shutdown), whether or not its caller ended. */
  releaseAll(): void {
    for (const tracked of [...this.#holding]) this.#releaseHeld(tracked);
  }

  #trackedOf(span: object): TrackedCaller | undefined {
    return (span as Linked)[this.#callerKey] as TrackedCaller | undefined;
  }

  /** The caller that holds and completes this attempt: none once that caller is a row. */
  #callerOfAttempt(span: ReadableSpanLike): TrackedCaller | undefined {
    if (!isHttpAttempt(span)) return undefined;
    const caller = (span as unknown as Linked)[this.#linkKey] as Linked | undefined;
    const tracked = caller && this.#trackedOf(caller);
    return tracked?.isRow === true ? undefined : tracked;
  }

  #startAttempt(caller: Linked, attempt: Attributes): void {
    const tracked = this.#track(caller);
    tracked.openAttempts++;
    this.#noteOwn(tracked, attempt);
    // The callers around this one describe the same call again (a chain's span, a GenAI
    // instrumentation's around the SDK's): none of them is a row, whether or not this attempt
    // is its caller's own; where the call is a row, its nearest caller is.
    let outer = caller[this.#linkKey] as Linked | undefined;
    for (let depth = 0; outer !== undefined && depth < MAX_CALLER_DEPTH; depth++) {
      this.#track(outer).ownsAttempt = true;
      outer = outer[this.#linkKey] as Linked | undefined;
    }
  }

  /** Marks the caller as owning an attempt when these attempt attributes are of its call. */
  #noteOwn(tracked: TrackedCaller, attempt: Attributes): void {
    if (tracked.ownsAttempt) return;
    tracked.ownsAttempt = goesToCallersProvider(
      attempt,
      tracked.span.attributes ?? NO_ATTRIBUTES,
      this.#catalog,
    );
  }

  #track(caller: Linked): TrackedCaller {
    return ((caller[this.#callerKey] as TrackedCaller | undefined) ??= new TrackedCaller(caller));
  }

  /** The attempt's attributes completed with its caller's as they stand now. */
  #complete(attempt: ReadableSpanLike, tracked: TrackedCaller, billed: boolean): Attributes {
    return enrichAttempt(attempt.attributes, tracked.span.attributes ?? NO_ATTRIBUTES, this.#catalog, billed);
  }

  /**
   * Sends the held attempts on, the billed one (the last answered 2xx to the caller's
   * provider) completed as such. Before the caller ends (the hold deadline, a flush), it may
   * have no usage yet to give: the billed attempt then goes without, and the caller's usage
   * stays for a later attempt, if one comes. A caller that is a row completes none: they were
   * other calls.
   */
  #releaseHeld(tracked: TrackedCaller): void {
    try {
      if (tracked.holdTimer) clearTimeout(tracked.holdTimer);
      tracked.holdTimer = undefined;
      this.#holding.delete(tracked);
      const held = tracked.held;
      tracked.held = undefined;
      if (held === undefined) return;
      if (tracked.isRow) {
        for (const attempt of held) this.#release(attempt, attempt.attributes);
        return;
      }
      const callerAttributes = tracked.span.attributes ?? NO_ATTRIBUTES;
      const billed = tracked.usagePriced ? -1 : billedAttemptIndex(held, callerAttributes, this.#catalog);
      for (let i = 0; i < held.length; i++) {
        const attempt = held[i]!;
        const attributes = this.#complete(attempt, tracked, i === billed);
        if (i === billed && carriesUsage(attributes)) tracked.usagePriced = true;
        this.#release(attempt, attributes);
      }
    } catch (error) {
      this.#reporter.error(
        'release attempts',
        'otel-pg-analytics: releasing held HTTP attempts failed',
        error,
      );
    }
  }
}

import type { RateLimitedReporter } from '../support/diag.js';
import type { SpanLike } from '../span-types.js';
import type { CallerTracker } from './caller-tracker.js';
import type { TrackedRequest } from './call-holder.js';

/** The processor's bookkeeping for one outbound call: its request, its user, when it opened. */
export class TrackedCall {
  recordedIncomplete = false;

  constructor(
    readonly request: TrackedRequest | undefined,
    readonly user: string | undefined,
    readonly openedAt: number,
  ) {}
}

/** At most this many open outbound calls are watched for the incomplete-call deadline. */
const MAX_TRACKED_OPEN_CALLS = 10_000;

/**
 * Watches outbound calls still open and hands those open for `maxOpenMillis` (a body the app
 * never read) to `record`, marked `recordedIncomplete` so that their end records nothing more.
 * The sweep runs on one timer, started with the first watched call; a call that ended, or a
 * caller that owns an attempt, is dropped from the watch.
 */
export class OpenCallSweep {
  /** Outbound calls still open, by span id. */
  readonly #open = new Map<string, SpanLike>();
  readonly #maxOpenMillis: number;
  readonly #callOf: (span: SpanLike) => TrackedCall | undefined;
  readonly #callers: CallerTracker;
  readonly #record: (span: SpanLike, call: TrackedCall) => void;
  readonly #reporter: RateLimitedReporter;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    maxOpenMillis: number,
    callOf: (span: SpanLike) => TrackedCall | undefined,
    callers: CallerTracker,
    record: (span: SpanLike, call: TrackedCall) => void,
    reporter: RateLimitedReporter,
  ) {
    this.#maxOpenMillis = maxOpenMillis;
    this.#callOf = callOf;
    this.#callers = callers;
    this.#record = record;
    this.#reporter = reporter;
  }

  /** Watches a call that just started. */
  watch(span: SpanLike): void {
    if (this.#open.size >= MAX_TRACKED_OPEN_CALLS) {
      this.#reporter.error(
        'open calls',
        `otel-pg-analytics: more than ${MAX_TRACKED_OPEN_CALLS} outbound calls are open; calls beyond that are not watched for the incomplete-call deadline`,
      );
      return;
    }
    this.#open.set(span.spanContext().spanId, span);
    if (!this.#timer) {
      const interval = Math.min(5000, Math.max(10, Math.floor(this.#maxOpenMillis / 4)));
      this.#timer = setInterval(() => this.sweep(this.#maxOpenMillis), interval);
      this.#timer.unref();
    }
  }

  /** Stops watching a call that ended. */
  forget(spanId: string): void {
    this.#open.delete(spanId);
  }

  /** Records calls open for at least `minAgeMillis` as they stand. */
  sweep(minAgeMillis: number): void {
    try {
      const now = Date.now();
      for (const [spanId, span] of this.#open) {
        const call = this.#callOf(span);
        // A caller that owns an attempt is no row, however long it stays open: its attempts are.
        // One whose attempts are all other calls (a token fetch) may still be one, as a caller
        // with none.
        if (span.ended || !call || this.#callers.ownsAttempt(span)) {
          this.#open.delete(spanId);
          continue;
        }
        if (now - call.openedAt < minAgeMillis) continue;
        this.#open.delete(spanId);
        call.recordedIncomplete = true;
        this.#record(span, call);
      }
    } catch (error) {
      this.#reporter.error('sweep', 'otel-pg-analytics: recording open calls failed', error);
    }
  }

  /** Stops the sweep's timer. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

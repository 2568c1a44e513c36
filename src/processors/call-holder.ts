import type { RateLimitedReporter } from '../support/diag.js';
import { requestStateIfAny, type RequestState } from '../pipeline/request-state.js';
import type { ReadableSpanLike } from '../span-types.js';

/**
 * The processor's bookkeeping for one request: whether its API row is excluded, whether it
 * has ended, and the finished outbound calls held until it does (so that a later
 * `setUser()` still applies to them).
 */
export class TrackedRequest {
  ended = false;
  held: ReadableSpanLike[] | undefined;
  holdTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly span: object,
    readonly excluded: boolean,
  ) {}

  /** What the app said about the request (`setUser`, errors), if it said anything. */
  get state(): RequestState | undefined {
    // Looked up, not created: most requests never get a state, and every allocation counts here.
    return requestStateIfAny(this.span);
  }
}

/** A request holds at most this many finished outbound calls; more are sent on at once. */
const MAX_HELD_PER_REQUEST = 256;

/**
 * Holds finished outbound calls until their request ends (at most `holdMillis`), so that a
 * `setUser()` called late still attributes them, then hands each to `forwardCall` with what
 * the app said about the request. Only requests holding calls have a timer; all are released
 * at flush and shutdown.
 */
export class CallHolder {
  readonly #holding = new Set<TrackedRequest>();
  readonly #holdMillis: number;
  readonly #forwardCall: (span: ReadableSpanLike, state: RequestState | undefined) => void;
  readonly #reporter: RateLimitedReporter;

  constructor(
    holdMillis: number,
    forwardCall: (span: ReadableSpanLike, state: RequestState | undefined) => void,
    reporter: RateLimitedReporter,
  ) {
    this.#holdMillis = holdMillis;
    this.#forwardCall = forwardCall;
    this.#reporter = reporter;
  }

  /** Holds a finished call until its request ends; false when it must go on now. */
  hold(request: TrackedRequest | undefined, span: ReadableSpanLike): boolean {
    if (!request || request.ended || (request.held?.length ?? 0) >= MAX_HELD_PER_REQUEST) return false;
    (request.held ??= []).push(span);
    if (!request.holdTimer) {
      this.#holding.add(request);
      request.holdTimer = setTimeout(() => this.#release(request), this.#holdMillis);
      request.holdTimer.unref();
    }
    return true;
  }

  /** The request ended: nothing more is held for it. */
  endRequest(request: TrackedRequest): void {
    request.ended = true;
    this.#stopHolding(request);
  }

  /** Passes on the calls `request` held, with `state`. */
  releaseHeld(request: TrackedRequest, state: RequestState | undefined): void {
    if (!request.held) return;
    const held = request.held;
    request.held = undefined;
    for (const call of held) this.#forwardCall(call, state);
  }

  /** Passes on every held call (flush, shutdown). */
  releaseAll(): void {
    for (const request of [...this.#holding]) this.#release(request);
  }

  #release(request: TrackedRequest): void {
    try {
      this.#stopHolding(request);
      this.releaseHeld(request, request.state);
    } catch (error) {
      this.#reporter.error('release', 'otel-pg-analytics: releasing held calls failed', error);
    }
  }

  #stopHolding(request: TrackedRequest): void {
    if (request.holdTimer) clearTimeout(request.holdTimer);
    request.holdTimer = undefined;
    this.#holding.delete(request);
  }
}

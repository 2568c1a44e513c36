import { context, type Attributes, type Context, type HrTime } from '@opentelemetry/api';
import { hrTime, hrTimeToMilliseconds } from '@opentelemetry/core';
import { ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import { resolveConfig, type AnalyticsConfig } from '../config.js';
import { classifySpan, isCallerCandidate, isHttpAttempt } from '../spans/classify-span.js';
import { RateLimitedReporter, createLogger } from '../support/diag.js';
import { userOfContext } from '../helpers/run-as-user.js';
import { createPathMatcher } from '../spans/path-matcher.js';
import { spanErrorMessage } from '../spans/span-error.js';
import { setActivePrivacy, setActiveRedactor } from '../pipeline/active-pipeline.js';
import { PrivacyPolicy } from '../privacy/privacy-policy.js';
import { createRedactor } from '../privacy/create-redactor.js';
import type { Redactor } from '../privacy/redactor.js';
import {
  findRequestSpan,
  noteRequestError,
  requestStateIfAny,
  type RequestState,
} from '../pipeline/request-state.js';
import { callUsageOfAttributes } from '../pricing/call-usage-of-attributes.js';
import { estimateCost } from '../pricing/estimate-cost.js';
import { DEFAULT_MODEL_PRICES, PriceTable } from '../pricing/price-table.js';
import { ServiceCatalog } from '../pricing/service-catalog.js';
import { serviceOfCall } from '../pricing/service-of-call.js';
import {
  ATTR_ANALYTICS_COST_MODEL,
  ATTR_ANALYTICS_COST_UNKNOWN_REASON,
  ATTR_ANALYTICS_COST_USD,
  ATTR_ANALYTICS_INCOMPLETE,
  ATTR_ANALYTICS_PRICE_CHECKED_AT,
  ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM,
  ATTR_ANALYTICS_PRICE_SOURCE,
  ATTR_ANALYTICS_PRICE_TABLE_VERSION,
  ATTR_ANALYTICS_RECORD,
  ATTR_ANALYTICS_SAMPLE_WEIGHT,
  ATTR_ANALYTICS_SLOW,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_ENDUSER_ID,
  ATTR_ENDUSER_PSEUDO_ID,
  ATTR_ERROR_MESSAGE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_SERVICE_PEER_NAME,
  RECORD_API,
  RECORD_AUTH,
  RECORD_EXTERNAL,
} from '../semconv.js';
import type { ReadableSpanLike, SpanLike, SpanProcessorLike } from '../span-types.js';
import { adoptGenAiNames } from './adopt-gen-ai-names.js';
import { CallerTracker } from './caller-tracker.js';
import { deriveSpan } from './derive-span.js';
import { sampleApiSpan } from './sample-api-span.js';

/** Options of {@link AnalyticsSpanProcessor}. */
export interface AnalyticsSpanProcessorConfig extends AnalyticsConfig {
  /**
   * Where kept spans go, normally a `BatchSpanProcessor` around `PostgresSpanExporter`.
   * It receives only the spans that become rows, completed with user, weight and cost.
   */
  spanProcessor: SpanProcessorLike;
  /**
   * An exporter that acknowledges batches before writing them (as `PostgresSpanExporter`
   * does): `forceFlush()` flushes it after `spanProcessor`, since a BatchSpanProcessor does not.
   */
  exporter?: { forceFlush?(): Promise<void> };
}

/**
 * This processor's bookkeeping for one request: whether its API row is excluded, whether it
 * has ended, and the finished outbound calls held until it does (so that a later
 * `setUser()` still applies to them).
 */
class TrackedRequest {
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

/** This processor's bookkeeping for one outbound call: its request, its user, when it opened. */
class TrackedCall {
  recordedIncomplete = false;

  constructor(
    readonly request: TrackedRequest | undefined,
    readonly user: string | undefined,
    readonly openedAt: number,
  ) {}
}

/** Spans as this processor keeps its bookkeeping on them, under its own symbols. */
type Tracked = { [key: symbol]: TrackedRequest | TrackedCall | undefined };

/** A request holds at most this many finished outbound calls; more are sent on at once. */
const MAX_HELD_PER_REQUEST = 256;
/** At most this many open outbound calls are watched for the incomplete-call deadline. */
const MAX_TRACKED_OPEN_CALLS = 10_000;

/**
 * Classifies spans into API requests, authentication events and external calls, completes
 * them with what is only known at the end (the request's user, sampling weight, service and
 * cost), and passes only those on to `spanProcessor`. Everything else (framework middleware
 * spans, database spans) stops here.
 *
 * - Excluded paths and sampling thin API rows only; auth events and external calls are always
 *   kept, even when made while serving an excluded or sampled-away request.
 * - Outbound calls that finish before their request are held until the request ends (at most
 *   `requestHoldMillis`), so a `setUser()` called late still attributes them.
 * - An outbound call still open after `maxOpenClientSpanMillis` (a body the app never read)
 *   is recorded as it stands, flagged `analytics.incomplete`.
 * - One row per HTTP attempt: a CLIENT span of another instrumentation around attempts of its
 *   own call (an SDK's own call span, a GenAI instrumentation's, around attempts to its host or
 *   provider) is no row; its attempts wait for it (at most `requestHoldMillis`) and those to
 *   its provider are completed with what it knows, its usage going to the billed attempt alone
 *   when that one read none ({@link CallerTracker}). One that had none of its own by its end
 *   (its transport not instrumented; a token fetch its only traced HTTP) is a row itself, its
 *   usage read under the names its SDK gives it ({@link adoptGenAiNames}), and its attempts
 *   are ordinary calls.
 *
 * No hook ever throws into the app. Needs every span recorded (`AlwaysOnSampler`): a head
 * sampler would decide before status and duration exist.
 *
 * ```ts
 * const exporter = new PostgresSpanExporter({ connectionString: process.env.DATABASE_URL });
 * const processor = new AnalyticsSpanProcessor({
 *   spanProcessor: new BatchSpanProcessor({ exporter }),
 *   exporter,
 *   sampleRate: 0.2,
 * });
 * ```
 */
export class AnalyticsSpanProcessor implements SpanProcessorLike {
  readonly #next: SpanProcessorLike;
  readonly #exporter: { forceFlush?(): Promise<void> } | undefined;
  readonly #sampleRate: number;
  readonly #slowRequestMillis: number;
  readonly #requestHoldMillis: number;
  readonly #maxOpenMillis: number;
  readonly #isExcluded: (path: string) => boolean;
  readonly #catalog: ServiceCatalog;
  readonly #prices: PriceTable;
  readonly #redactor: Redactor;
  /** `enduser.id`, or `enduser.pseudo.id` when user ids are pseudonyms. */
  readonly #userAttribute: string;
  /**
   * Keys of this processor's bookkeeping on the spans themselves: a request's on its SERVER
   * span, a call's on its CLIENT span. Not WeakMaps: see `request-state.ts`. Symbols of this
   * instance, so two processors never see each other's.
   */
  readonly #requestKey = Symbol('otel-pg-analytics.tracked-request');
  readonly #callKey = Symbol('otel-pg-analytics.tracked-call');
  /** Outbound calls still open, by span id, watched for the incomplete-call deadline. */
  readonly #openCalls = new Map<string, SpanLike>();
  readonly #holding = new Set<TrackedRequest>();
  readonly #reporter = new RateLimitedReporter(createLogger('processor'));
  readonly #callers: CallerTracker;
  #sweepTimer: NodeJS.Timeout | undefined;
  #isShutdown = false;
  #shutdownPromise: Promise<void> | undefined;

  constructor(config: AnalyticsSpanProcessorConfig) {
    const { spanProcessor, exporter, ...options } = config;
    if (typeof spanProcessor?.onEnd !== 'function') {
      throw new TypeError('AnalyticsSpanProcessor needs a spanProcessor to pass kept spans to');
    }
    const resolved = resolveConfig(options);
    this.#next = spanProcessor;
    this.#exporter = exporter;
    this.#sampleRate = resolved.sampleRate;
    this.#slowRequestMillis = resolved.slowRequestMillis;
    this.#requestHoldMillis = resolved.requestHoldMillis;
    this.#maxOpenMillis = resolved.maxOpenClientSpanMillis;
    this.#isExcluded = createPathMatcher(resolved.excludedPaths);
    this.#catalog = new ServiceCatalog(resolved.services);
    this.#prices = new PriceTable([...DEFAULT_MODEL_PRICES, ...resolved.modelPrices]);
    this.#redactor = createRedactor(resolved);
    // The helpers (recordAuthEvent, setUser, framework errors) apply the same policies.
    setActiveRedactor(this.#redactor);
    const privacy = new PrivacyPolicy(resolved);
    setActivePrivacy(privacy);
    this.#userAttribute = privacy.pseudonymousUsers ? ATTR_ENDUSER_PSEUDO_ID : ATTR_ENDUSER_ID;
    this.#callers = new CallerTracker(
      resolved.requestHoldMillis,
      this.#catalog,
      (attempt, attributes) => this.#settleCall(this.#withAttributes(attempt, attributes)),
      this.#reporter,
    );
  }

  onStart(span: SpanLike, parentContext: Context): void {
    if (this.#isShutdown) return;
    try {
      this.#callers.link(span, parentContext);
      const record = classifySpan(span);
      if (record === undefined) return;
      if (record === RECORD_API) {
        const path = span.attributes[ATTR_URL_PATH];
        const excluded = typeof path === 'string' && this.#isExcluded(path);
        (span as unknown as Tracked)[this.#requestKey] = new TrackedRequest(span, excluded);
      } else if (record === RECORD_EXTERNAL) {
        const requestSpan = findRequestSpan(parentContext);
        // Users of calls made under `runAsUser` (jobs, queues): used when no request says otherwise.
        const call = new TrackedCall(
          requestSpan && this.#requestOf(requestSpan),
          userOfContext(parentContext),
          Date.now(),
        );
        (span as unknown as Tracked)[this.#callKey] = call;
        this.#watchOpenCall(span);
      }
      // Only spans that become rows: the downstream never sees a start without its end. Whether
      // a caller candidate becomes one is known only at its end.
      if (!isCallerCandidate(span)) this.#next.onStart(span, parentContext);
    } catch (error) {
      this.#reporter.error('onStart', 'otel-pg-analytics: span processor onStart failed', error);
    }
  }

  onEnd(span: ReadableSpanLike): void {
    if (this.#isShutdown) return;
    try {
      // A caller that had attempts is no row: its attempts are.
      if (this.#callers.endCaller(span)) {
        this.#openCalls.delete(span.spanContext().spanId);
        return;
      }
      switch (classifySpan(span)) {
        case RECORD_API:
          this.#endRequest(span);
          break;
        case RECORD_EXTERNAL:
          this.#endCall(span);
          break;
        case RECORD_AUTH:
          this.#forward(span, { [ATTR_ANALYTICS_RECORD]: RECORD_AUTH });
          break;
        default: {
          // Framework spans stop here, but the first error they saw names the request's failure.
          const message = spanErrorMessage(span);
          if (message !== undefined) noteRequestError(context.active(), message, this.#redactor);
        }
      }
    } catch (error) {
      this.#reporter.error('onEnd', 'otel-pg-analytics: span processor onEnd failed', error);
    }
  }

  async forceFlush(): Promise<void> {
    this.#callers.releaseAll();
    this.#releaseAllHeld();
    await this.#next.forceFlush();
    await this.#exporter?.forceFlush?.();
  }

  /** Records held and still-open calls, then shuts the downstream down; runs once. */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= (async () => {
      // In this order: open attempts let their callers go, whose attempts may join a request.
      this.#recordOpenCalls(0);
      this.#callers.releaseAll();
      this.#releaseAllHeld();
      this.#isShutdown = true;
      if (this.#sweepTimer) clearInterval(this.#sweepTimer);
      await this.#next.shutdown();
    })();
    return this.#shutdownPromise;
  }

  #requestOf(span: object): TrackedRequest | undefined {
    return (span as Tracked)[this.#requestKey] as TrackedRequest | undefined;
  }

  #callOf(span: object): TrackedCall | undefined {
    return (span as Tracked)[this.#callKey] as TrackedCall | undefined;
  }

  #endRequest(span: ReadableSpanLike): void {
    const request = this.#requestOf(span);
    const state = request?.state;
    if (request) {
      request.ended = true;
      this.#stopHolding(request);
    }
    if (!request?.excluded) {
      const decision = sampleApiSpan(span, this.#sampleRate, this.#slowRequestMillis);
      if (decision.keep) {
        const extra: Attributes = {
          [ATTR_ANALYTICS_RECORD]: RECORD_API,
          [ATTR_ANALYTICS_SAMPLE_WEIGHT]: decision.weight,
        };
        if (decision.slow) extra[ATTR_ANALYTICS_SLOW] = true;
        if (state?.userId !== undefined) extra[this.#userAttribute] = state.userId;
        // A child's error (already redacted) names the failure when the span has none of its own;
        // the span's own error is redacted where it becomes a row.
        if (state?.errorMessage !== undefined && spanErrorMessage(span) === undefined) {
          extra[ATTR_ERROR_MESSAGE] = state.errorMessage;
        }
        this.#forward(span, extra);
      }
    }
    if (request?.held) {
      const held = request.held;
      request.held = undefined;
      for (const call of held) this.#forwardCall(call, state);
    }
  }

  #endCall(span: ReadableSpanLike): void {
    this.#openCalls.delete(span.spanContext().spanId);
    if (this.#callOf(span)?.recordedIncomplete) return;
    if (this.#callers.holdAttempt(span)) return;
    this.#settleCall(span);
  }

  /** A finished call: held until its request ends, or passed on. */
  #settleCall(span: ReadableSpanLike): void {
    const request = this.#callOf(span)?.request;
    if (request && !request.ended && (request.held?.length ?? 0) < MAX_HELD_PER_REQUEST) {
      (request.held ??= []).push(span);
      if (!request.holdTimer) {
        this.#holding.add(request);
        request.holdTimer = setTimeout(() => this.#releaseHeld(request), this.#requestHoldMillis);
        request.holdTimer.unref();
      }
      return;
    }
    this.#forwardCall(span, request?.state);
  }

  /** A copy of an attempt with the attributes its caller completed, still tracked as the call. */
  #withAttributes(attempt: ReadableSpanLike, attributes: Attributes): ReadableSpanLike {
    if (attributes === attempt.attributes) return attempt;
    const enriched = deriveSpan(attempt, {}, undefined, attributes);
    (enriched as unknown as Tracked)[this.#callKey] = this.#callOf(attempt);
    return enriched;
  }

  /** Passes a call on with its service, cost and user; `endTime` snapshots a call still open. */
  #forwardCall(
    span: ReadableSpanLike,
    state: RequestState | undefined,
    extra: Attributes = {},
    endTime?: HrTime,
  ): void {
    // A call that is not an HTTP attempt of this process (an SDK's call span with no attempt,
    // a span from another service) may name usage its own way: priced and stored under ours,
    // as the attempts it would have completed are.
    const own = isHttpAttempt(span) ? span.attributes : adoptGenAiNames(span.attributes);
    // What the sweep adds (an unfinished response) is part of the verdict on its cost.
    const attributes = Object.keys(extra).length === 0 ? own : { ...own, ...extra };
    const status = attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
    const service = serviceOfCall(this.#catalog, attributes);
    const cost = estimateCost(
      callUsageOfAttributes(attributes),
      service,
      typeof status === 'number' ? status : undefined,
      this.#prices,
      new Date(hrTimeToMilliseconds(span.startTime)),
    );
    const out: Attributes = { ...extra, [ATTR_ANALYTICS_RECORD]: RECORD_EXTERNAL };
    if (service) out[ATTR_SERVICE_PEER_NAME] = service.name;
    if (service?.genAiProvider && attributes[ATTR_GEN_AI_PROVIDER_NAME] === undefined) {
      out[ATTR_GEN_AI_PROVIDER_NAME] = service.genAiProvider;
    }
    if (cost.usd !== null) out[ATTR_ANALYTICS_COST_USD] = cost.usd;
    if (cost.model) out[ATTR_ANALYTICS_COST_MODEL] = cost.model;
    if (cost.unknownReason) out[ATTR_ANALYTICS_COST_UNKNOWN_REASON] = cost.unknownReason;
    if (cost.priceSource) out[ATTR_ANALYTICS_PRICE_SOURCE] = cost.priceSource;
    if (cost.priceCheckedAt) out[ATTR_ANALYTICS_PRICE_CHECKED_AT] = cost.priceCheckedAt;
    if (cost.priceEffectiveFrom) out[ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM] = cost.priceEffectiveFrom;
    if (cost.priceTableVersion) out[ATTR_ANALYTICS_PRICE_TABLE_VERSION] = cost.priceTableVersion;
    const user = state?.userId ?? this.#callOf(span)?.user;
    if (user !== undefined && attributes[this.#userAttribute] === undefined) out[this.#userAttribute] = user;
    this.#forward(span, out, endTime, own);
  }

  #forward(span: ReadableSpanLike, extra: Attributes, endTime?: HrTime, base?: Attributes): void {
    this.#next.onEnd(deriveSpan(span, extra, endTime, base));
  }

  #releaseHeld(request: TrackedRequest): void {
    try {
      this.#stopHolding(request);
      const held = request.held ?? [];
      request.held = undefined;
      for (const call of held) this.#forwardCall(call, request.state);
    } catch (error) {
      this.#reporter.error('release', 'otel-pg-analytics: releasing held calls failed', error);
    }
  }

  #stopHolding(request: TrackedRequest): void {
    if (request.holdTimer) clearTimeout(request.holdTimer);
    request.holdTimer = undefined;
    this.#holding.delete(request);
  }

  #releaseAllHeld(): void {
    for (const request of [...this.#holding]) this.#releaseHeld(request);
  }

  #watchOpenCall(span: SpanLike): void {
    if (this.#openCalls.size >= MAX_TRACKED_OPEN_CALLS) {
      this.#reporter.error(
        'open calls',
        `otel-pg-analytics: more than ${MAX_TRACKED_OPEN_CALLS} outbound calls are open; calls beyond that are not watched for the incomplete-call deadline`,
      );
      return;
    }
    this.#openCalls.set(span.spanContext().spanId, span);
    if (!this.#sweepTimer) {
      const interval = Math.min(5000, Math.max(10, Math.floor(this.#maxOpenMillis / 4)));
      this.#sweepTimer = setInterval(() => this.#recordOpenCalls(this.#maxOpenMillis), interval);
      this.#sweepTimer.unref();
    }
  }

  /** Records calls open for at least `minAgeMillis` as they stand, marked incomplete. */
  #recordOpenCalls(minAgeMillis: number): void {
    try {
      const now = Date.now();
      for (const [spanId, span] of this.#openCalls) {
        const call = this.#callOf(span);
        // A caller that owns an attempt is no row, however long it stays open: its attempts are.
        // One whose attempts are all other calls (a token fetch) may still be one, as a caller
        // with none.
        if (span.ended || !call || this.#callers.ownsAttempt(span)) {
          this.#openCalls.delete(spanId);
          continue;
        }
        if (now - call.openedAt < minAgeMillis) continue;
        this.#openCalls.delete(spanId);
        call.recordedIncomplete = true;
        const enriched = this.#callers.abandonAttempt(span);
        const view = enriched ? this.#withAttributes(span, enriched) : span;
        const incomplete: Attributes = { [ATTR_ANALYTICS_INCOMPLETE]: true };
        // An LLM response still being read has no usage yet: say so rather than leave it blank.
        if (view.attributes[ATTR_GEN_AI_PROVIDER_NAME] !== undefined) {
          incomplete[ATTR_ANALYTICS_USAGE_UNKNOWN_REASON] = 'response_not_finished';
        }
        this.#forwardCall(view, call.request?.state, incomplete, hrTime());
      }
    } catch (error) {
      this.#reporter.error('sweep', 'otel-pg-analytics: recording open calls failed', error);
    }
  }
}

import { context, type Attributes, type Context, type HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
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
import { findRequestSpan, noteRequestError, type RequestState } from '../pipeline/request-state.js';
import { DEFAULT_MODEL_PRICES, PriceTable } from '../pricing/price-table.js';
import { ServiceCatalog } from '../pricing/service-catalog.js';
import {
  ATTR_ANALYTICS_INCOMPLETE,
  ATTR_ANALYTICS_RECORD,
  ATTR_ANALYTICS_SAMPLE_WEIGHT,
  ATTR_ANALYTICS_SLOW,
  ATTR_ANALYTICS_USAGE_UNKNOWN_REASON,
  ATTR_ENDUSER_ID,
  ATTR_ENDUSER_PSEUDO_ID,
  ATTR_ERROR_MESSAGE,
  ATTR_GEN_AI_PROVIDER_NAME,
  RECORD_API,
  RECORD_AUTH,
  RECORD_EXTERNAL,
} from '../semconv.js';
import type { ReadableSpanLike, SpanLike, SpanProcessorLike } from '../span-types.js';
import { adoptGenAiNames } from './adopt-gen-ai-names.js';
import { callAttributes, type CallPricing } from './call-attributes.js';
import { CallHolder, TrackedRequest } from './call-holder.js';
import { CallerTracker } from './caller-tracker.js';
import { deriveSpan } from './derive-span.js';
import { OpenCallSweep, TrackedCall } from './open-call-sweep.js';
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

/** Spans as this processor keeps its bookkeeping on them, under its own symbols. */
type Tracked = { [key: symbol]: TrackedRequest | TrackedCall | undefined };

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
  readonly #isExcluded: (path: string) => boolean;
  readonly #pricing: CallPricing;
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
  readonly #reporter = new RateLimitedReporter(createLogger('processor'));
  readonly #callers: CallerTracker;
  readonly #holder: CallHolder;
  readonly #openCalls: OpenCallSweep;
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
    this.#isExcluded = createPathMatcher(resolved.excludedPaths);
    this.#redactor = createRedactor(resolved);
    // The helpers (recordAuthEvent, setUser, framework errors) apply the same policies.
    setActiveRedactor(this.#redactor);
    const privacy = new PrivacyPolicy(resolved);
    setActivePrivacy(privacy);
    this.#userAttribute = privacy.pseudonymousUsers ? ATTR_ENDUSER_PSEUDO_ID : ATTR_ENDUSER_ID;
    const prices = new PriceTable([...DEFAULT_MODEL_PRICES, ...resolved.modelPrices]);
    const catalog = new ServiceCatalog(resolved.services);
    this.#pricing = { catalog, prices, userAttribute: this.#userAttribute };
    this.#callers = new CallerTracker(
      resolved.requestHoldMillis,
      catalog,
      (attempt, attributes) => this.#settleCall(this.#withAttributes(attempt, attributes)),
      this.#reporter,
    );
    this.#holder = new CallHolder(
      resolved.requestHoldMillis,
      (span, state) => this.#forwardCall(span, state),
      this.#reporter,
    );
    this.#openCalls = new OpenCallSweep(
      resolved.maxOpenClientSpanMillis,
      (span) => this.#callOf(span),
      this.#callers,
      (span, call) => this.#recordIncomplete(span, call),
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
        this.#openCalls.watch(span);
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
        this.#openCalls.forget(span.spanContext().spanId);
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
    this.#holder.releaseAll();
    await this.#next.forceFlush();
    await this.#exporter?.forceFlush?.();
  }

  /** Records held and still-open calls, then shuts the downstream down; runs once. */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= (async () => {
      // In this order: open attempts let their callers go, whose attempts may join a request.
      this.#openCalls.sweep(0);
      this.#callers.releaseAll();
      this.#holder.releaseAll();
      this.#isShutdown = true;
      this.#openCalls.stop();
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
    if (request) this.#holder.endRequest(request);
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
    if (request) this.#holder.releaseHeld(request, state);
  }

  #endCall(span: ReadableSpanLike): void {
    this.#openCalls.forget(span.spanContext().spanId);
    if (this.#callOf(span)?.recordedIncomplete) return;
    if (this.#callers.holdAttempt(span)) return;
    this.#settleCall(span);
  }

  /** A finished call: held until its request ends, or passed on. */
  #settleCall(span: ReadableSpanLike): void {
    const request = this.#callOf(span)?.request;
    if (!this.#holder.hold(request, span)) this.#forwardCall(span, request?.state);
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
    const user = state?.userId ?? this.#callOf(span)?.user;
    this.#forward(span, callAttributes(own, span.startTime, extra, user, this.#pricing), endTime, own);
  }

  #forward(span: ReadableSpanLike, extra: Attributes, endTime?: HrTime, base?: Attributes): void {
    this.#next.onEnd(deriveSpan(span, extra, endTime, base));
  }

  /** A call still open past the deadline, recorded as it stands, flagged incomplete. */
  #recordIncomplete(span: SpanLike, call: TrackedCall): void {
    const enriched = this.#callers.abandonAttempt(span);
    const view = enriched ? this.#withAttributes(span, enriched) : span;
    const incomplete: Attributes = { [ATTR_ANALYTICS_INCOMPLETE]: true };
    // An LLM response still being read has no usage yet: say so rather than leave it blank.
    if (view.attributes[ATTR_GEN_AI_PROVIDER_NAME] !== undefined) {
      incomplete[ATTR_ANALYTICS_USAGE_UNKNOWN_REASON] = 'response_not_finished';
    }
    this.#forwardCall(view, call.request?.state, incomplete, hrTime());
  }
}

import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runAsUser } from '../../src/helpers/run-as-user.js';
import { setUser } from '../../src/helpers/set-user.js';
import { AnalyticsSpanProcessor } from '../../src/processors/analytics-span-processor.js';
import type { ReadableSpanLike, SpanProcessorLike } from '../../src/span-types.js';
import { createProcessorHarness, recordsOf, type ProcessorHarness } from '../helpers/tracing.js';

let harness: ProcessorHarness | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await harness?.close();
  harness = undefined;
});

describe('AnalyticsSpanProcessor', () => {
  it('passes on API requests, auth events and external calls, and stops framework spans', () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    context.with(ctx, () => {
      harness!.provider
        .getTracer('@opentelemetry/instrumentation-express')
        .startSpan('middleware', { kind: SpanKind.INTERNAL })
        .end();
      harness!.startCall(ctx).end();
    });
    span.setAttribute('http.response.status_code', 200);
    span.end();

    const passed = harness.passed();
    expect(passed.map((s) => s.attributes['analytics.record']).sort()).toEqual(['api', 'external']);
    expect(passed.some((s) => s.name === 'middleware')).toBe(false);
  });

  it('drops API rows of excluded paths but keeps the calls made while serving them', () => {
    harness = createProcessorHarness({ excludedPaths: ['/health', '/static/*'] });
    for (const path of ['/health', '/static/app.js']) {
      const { span, ctx } = harness.startRequest({ 'url.path': path });
      harness.startCall(ctx).end();
      span.end();
    }
    expect(recordsOf(harness.passed(), 'api')).toHaveLength(0);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(2);
  });

  it('applies a user set late in the request to the calls that finished before it', () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    harness.startCall(ctx).end();
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(0);
    context.with(ctx, () => setUser(42));
    const late = harness.startCall(ctx);
    span.end();
    late.end();

    const calls = recordsOf(harness.passed(), 'external');
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.attributes['enduser.id'])).toEqual(['42', '42']);
    expect(recordsOf(harness.passed(), 'api')[0]!.attributes['enduser.id']).toBe('42');
  });

  it('attributes calls made outside any request to the user runAsUser names', () => {
    harness = createProcessorHarness();
    runAsUser('job-owner', () => harness!.startCall(context.active()).end());
    harness.startCall(ROOT_CONTEXT).end();
    expect(recordsOf(harness.passed(), 'external').map((c) => c.attributes['enduser.id'])).toEqual([
      'job-owner',
      undefined,
    ]);
  });

  it("prefers the request's own user over runAsUser for calls made while serving it", () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    context.with(ctx, () => {
      setUser('request-user');
      runAsUser('job-owner', () => harness!.startCall(context.active()).end());
    });
    span.end();
    expect(recordsOf(harness.passed(), 'external')[0]!.attributes['enduser.id']).toBe('request-user');
  });

  it('releases held calls after requestHoldMillis when the request never ends', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000 });
    const { ctx } = harness.startRequest();
    harness.startCall(ctx).end();
    vi.advanceTimersByTime(999);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
  });

  it('records a call still open after maxOpenClientSpanMillis as incomplete, once', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ maxOpenClientSpanMillis: 2000 });
    const call = harness.startCall(harness.startRequest().ctx);
    vi.advanceTimersByTime(1000);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(0);
    vi.advanceTimersByTime(2000);
    const [incomplete] = recordsOf(harness.passed(), 'external');
    expect(incomplete?.attributes['analytics.incomplete']).toBe(true);
    expect(incomplete?.duration[0]).toBeGreaterThanOrEqual(0);
    call.end();
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
  });

  it('says why an LLM call recorded before its response finished has no cost', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ maxOpenClientSpanMillis: 2000 });
    const call = harness.startCall(harness.startRequest().ctx, {
      'server.address': 'api.openai.com',
      'url.full': 'https://api.openai.com/v1/chat/completions',
      'url.path': '/v1/chat/completions',
      'gen_ai.provider.name': 'openai',
    });
    vi.advanceTimersByTime(3000);
    const [incomplete] = recordsOf(harness.passed(), 'external');
    expect(incomplete?.attributes).toMatchObject({
      'analytics.incomplete': true,
      'analytics.usage.unknown_reason': 'response_not_finished',
      'analytics.cost.unknown_reason': 'response_not_finished',
    });
    expect(incomplete?.attributes['analytics.cost.usd']).toBeUndefined();
    call.end();
  });

  it('records open and held calls on shutdown instead of losing them', async () => {
    // The in-memory exporter forgets its spans on shutdown, so record what reaches the downstream.
    const received: ReadableSpanLike[] = [];
    const processor = new AnalyticsSpanProcessor({
      spanProcessor: {
        onStart: () => {},
        onEnd: (s) => void received.push(s),
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    });
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    processor.onStart(request as never, ctx);
    const finished = harness.startCall(ctx);
    processor.onStart(finished as never, ctx);
    finished.end();
    processor.onEnd(finished as never);
    const open = harness.startCall(ctx);
    processor.onStart(open as never, ctx);
    expect(received).toHaveLength(0);

    await processor.shutdown();
    expect(received).toHaveLength(2);
    expect(received.filter((s) => s.attributes['analytics.incomplete'] === true)).toHaveLength(1);
  });

  describe('sampling', () => {
    const traceIdEndingIn = (tail: string) => `${'0'.repeat(24)}${tail}`;

    it('keeps ordinary requests whose trace id hashes below the rate, weighted 1/rate', () => {
      const ids = [traceIdEndingIn('00000001'), traceIdEndingIn('ffffffff')];
      harness = createProcessorHarness({ sampleRate: 0.5 }, { generateTraceId: () => ids.shift()! });
      for (let i = 0; i < 2; i++) {
        const { span } = harness.startRequest();
        span.setAttribute('http.response.status_code', 200);
        span.end();
      }
      const kept = recordsOf(harness.passed(), 'api');
      expect(kept).toHaveLength(1);
      expect(kept[0]!.spanContext().traceId).toBe(traceIdEndingIn('00000001'));
      expect(kept[0]!.attributes['analytics.sample_weight']).toBe(2);
    });

    it('always keeps server errors, slow requests, auth events and calls, weighted 1', () => {
      harness = createProcessorHarness(
        { sampleRate: 0, slowRequestMillis: 0 },
        { generateTraceId: () => 'f'.repeat(32) },
      );
      const failed = harness.startRequest();
      failed.span.setAttribute('http.response.status_code', 503);
      harness.startCall(failed.ctx).end();
      context.with(failed.ctx, () => {
        harness!.provider
          .getTracer('otel-pg-analytics')
          .startSpan('auth login', {
            attributes: { 'analytics.record': 'auth', 'analytics.auth.event_type': 'login' },
          })
          .end();
      });
      failed.span.end();
      const slow = harness.startRequest();
      slow.span.setAttribute('http.response.status_code', 200);
      slow.span.end();

      const api = recordsOf(harness.passed(), 'api');
      expect(api).toHaveLength(2);
      expect(api.map((s) => s.attributes['analytics.sample_weight'])).toEqual([1, 1]);
      expect(api[1]!.attributes['analytics.slow']).toBe(true);
      expect(recordsOf(harness.passed(), 'auth')).toHaveLength(1);
      expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
    });
  });

  it('prices calls from the service catalog and from GenAI usage attributes', () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    const scrape = harness.startCall(ctx);
    scrape.setAttribute('http.response.status_code', 200);
    scrape.end();
    const llm = harness.startCall(ctx, {
      'server.address': 'generativelanguage.googleapis.com',
      'url.path': '/v1beta/models/gemini-2.5-flash:generateContent',
    });
    llm.setAttributes({
      'http.response.status_code': 200,
      'gen_ai.response.model': 'gemini-2.5-flash',
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.cache_read.input_tokens': 400_000,
      'gen_ai.usage.output_tokens': 100_000,
    });
    llm.end();
    span.end();

    const [brightdata, gemini] = recordsOf(harness.passed(), 'external');
    expect(brightdata!.attributes).toMatchObject({
      'service.peer.name': 'brightdata',
      'analytics.cost.usd': 0.0015,
    });
    // 600k uncached input at $0.30/M + 400k cached at $0.03/M + 100k output at $2.50/M.
    expect(gemini!.attributes['analytics.cost.usd']).toBeCloseTo(0.18 + 0.012 + 0.25, 8);
    expect(gemini!.attributes).toMatchObject({
      'service.peer.name': 'gemini',
      'gen_ai.provider.name': 'gcp.gemini',
    });
  });

  it("takes a request's error message from the first exception of its child spans, redacted", () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    context.with(ctx, () => {
      const handler = harness!.provider
        .getTracer('@opentelemetry/instrumentation-express')
        .startSpan('request handler');
      handler.recordException(new Error('lookup failed for token=abc123'));
      handler.end();
    });
    span.setAttribute('http.response.status_code', 500);
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    expect(recordsOf(harness.passed(), 'api')[0]!.attributes['error.message']).toBe(
      'lookup failed for token=REDACTED',
    );
  });

  it('never throws into the app when the downstream processor throws', () => {
    const failing: SpanProcessorLike = {
      onStart: () => {
        throw new Error('downstream onStart');
      },
      onEnd: () => {
        throw new Error('downstream onEnd');
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const processor = new AnalyticsSpanProcessor({ spanProcessor: failing });
    harness = createProcessorHarness();
    const tracer = harness.provider.getTracer('@opentelemetry/instrumentation-http');
    const span = tracer.startSpan('GET', { kind: SpanKind.SERVER });
    expect(() => processor.onStart(span as never, context.active())).not.toThrow();
    span.end();
    expect(() => processor.onEnd(span as never)).not.toThrow();
    expect(harness.warnings.some((w) => w.includes('onEnd failed'))).toBe(true);
  });

  it('flushes the exporter after the downstream processor on forceFlush', async () => {
    const order: string[] = [];
    const processor = new AnalyticsSpanProcessor({
      spanProcessor: {
        onStart: () => {},
        onEnd: () => {},
        forceFlush: async () => void order.push('processor'),
        shutdown: async () => {},
      },
      exporter: { forceFlush: async () => void order.push('exporter') },
    });
    await processor.forceFlush();
    expect(order).toEqual(['processor', 'exporter']);
  });

  it('rejects invalid options with an error naming the value', () => {
    const spanProcessor = {
      onStart: () => {},
      onEnd: () => {},
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    expect(() => new AnalyticsSpanProcessor({ spanProcessor, sampleRate: 2 })).toThrow(/sampleRate: 2/);
    expect(() => new AnalyticsSpanProcessor({ spanProcessor: undefined as never })).toThrow(/spanProcessor/);
  });
});

import { context, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setUser } from '../../src/helpers/set-user.js';
import { AnalyticsSpanProcessor } from '../../src/processors/analytics-span-processor.js';
import { DEFAULT_MODEL_PRICES, PRICE_TABLE_VERSION, type ModelPrice } from '../../src/pricing/price-table.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { createProcessorHarness, recordsOf, type ProcessorHarness } from '../helpers/tracing.js';

let harness: ProcessorHarness | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await harness?.close();
  harness = undefined;
});

/** The price row in force now for `model`. */
function priceRow(model: string): ModelPrice {
  const day = new Date().toISOString().slice(0, 10);
  return DEFAULT_MODEL_PRICES.filter((r) => r.model === model && (r.effectiveFrom ?? '') <= day).at(-1)!;
}

/** The attributes the processor adds for a per-token price from `row`. */
function pricedBy(row: ModelPrice, usd: number): Attributes {
  return {
    'analytics.cost.usd': usd,
    'analytics.cost.model': 'per_token',
    'analytics.price.source': row.source,
    'analytics.price.checked_at': row.checkedAt,
    ...(row.effectiveFrom !== undefined && { 'analytics.price.effective_from': row.effectiveFrom }),
    'analytics.price.table_version': PRICE_TABLE_VERSION,
  };
}

/** USD for Anthropic counts (input including cache reads and writes), by hand. */
function claudeCost(
  row: ModelPrice,
  u: { input: number; cacheRead: number; cacheWrite: number; output: number },
) {
  const usd =
    ((u.input - u.cacheRead - u.cacheWrite) * row.inputPerMillion +
      u.cacheRead * row.cachedInputPerMillion! +
      u.cacheWrite * row.cacheWritePerMillion! +
      u.output * row.outputPerMillion) /
    1e6;
  return Math.round(usd * 1e8) / 1e8;
}

const SONNET = 'claude-sonnet-4-5';

/** The call span `@anthropic-ai/sdk` 1.15 starts for `messages.create` (internal/tracing.ts). */
function startAnthropicCall(ctx: Context, attributes: Attributes = {}): { span: Span; ctx: Context } {
  const span = harness!.provider.getTracer('com.anthropic.sdk.typescript', '1.15.0').startSpan(
    'anthropic.messages.create',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.provider.name': 'anthropic',
        'server.address': 'api.anthropic.com',
        'server.port': 443,
        'http.route': '/v1/messages',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': SONNET,
        'gen_ai.request.max_tokens': 1024,
        'gen_ai.conversation.id': 'conv-7',
        ...attributes,
      },
    },
    ctx,
  );
  return { span, ctx: trace.setSpan(ctx, span) };
}

/** What the SDK records on its call span at the first attempt (`recordAttempt`). */
const SDK_ATTEMPT_ATTRIBUTES = {
  'http.request.method': 'POST',
  'url.scheme': 'https',
  'url.path': '/v1/messages',
  'url.full': 'https://api.anthropic.com/v1/messages',
};

/** What the SDK records on its call span from the parsed response, then ends it. */
function endAnthropicCall(
  span: Span,
  usage: { input: number; cacheRead: number; cacheWrite: number; output: number },
  status = 200,
  extra: Attributes = {},
): void {
  span.setAttributes({
    ...SDK_ATTEMPT_ATTRIBUTES,
    'http.response.status_code': status,
    'gen_ai.response.id': 'msg_01',
    'gen_ai.response.model': `${SONNET}-20250929`,
    'gen_ai.usage.input_tokens': usage.input,
    'gen_ai.usage.cache_read.input_tokens': usage.cacheRead,
    'gen_ai.usage.cache_write.input_tokens': usage.cacheWrite,
    'gen_ai.usage.output_tokens': usage.output,
    'anthropic.response.service_tier': 'standard',
    'anthropic.message.stop_reason': 'end_turn',
    ...extra,
  });
  span.end();
}

/** The fetch attempt (instrumentation-undici) to the Messages API, as it starts. */
const ATTEMPT_ATTRIBUTES = {
  'http.request.method': 'POST',
  'server.address': 'api.anthropic.com',
  'server.port': 443,
  'url.full': 'https://api.anthropic.com/v1/messages',
  'url.path': '/v1/messages',
};

/** What our body capture sets on an attempt whose response it read. */
function ownUsage(u: { input: number; cacheRead: number; cacheWrite: number; output: number }): Attributes {
  return {
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.operation.name': 'chat',
    'gen_ai.response.model': `${SONNET}-20250929`,
    'gen_ai.usage.input_tokens': u.input,
    'gen_ai.usage.output_tokens': u.output,
    'gen_ai.usage.cache_read.input_tokens': u.cacheRead,
    'gen_ai.usage.cache_creation.input_tokens': u.cacheWrite,
    'analytics.usage.service_tier': 'standard',
  };
}

/** Runs one attempt in `ctx` to its end with `status` and `attributes`. */
function attempt(ctx: Context, status: number, attributes: Attributes = {}): string {
  const span = harness!.startCall(ctx, ATTEMPT_ATTRIBUTES);
  span.setAttributes({ 'http.response.status_code': status, ...attributes });
  span.end();
  return span.spanContext().spanId;
}

const USAGE = { input: 1000, cacheRead: 200, cacheWrite: 100, output: 500 };

/** A tool the app calls while an SDK call runs: another host, not in the catalog. */
const TOOL_ATTRIBUTES = {
  'http.request.method': 'GET',
  'server.address': 'tools.example.com',
  'server.port': 443,
  'url.full': 'https://tools.example.com/weather',
  'url.path': '/weather',
};

/**
 * A row's attributes without its cost, after checking that it has none to count: a refused
 * attempt is priced at nothing or not at all (0 once its provider is known).
 */
function withoutCost(row: ReadableSpanLike): Attributes {
  const { 'analytics.cost.usd': usd, 'analytics.cost.model': _model, ...rest } = row.attributes;
  expect(usd ?? 0).toBe(0);
  return rest;
}

describe('one row per HTTP attempt: an SDK call span around attempts is no row', () => {
  it('makes a call span with one attempt one row: the attempt, completed by the call span, priced once', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    const spanId = attempt(call.ctx, 200, ownUsage(USAGE));
    endAnthropicCall(call.span, USAGE);
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.spanContext().spanId).toBe(spanId);
    expect(rows[0]!.instrumentationScope.name).toBe('@opentelemetry/instrumentation-undici');
    expect(rows[0]!.attributes).toEqual({
      ...ATTEMPT_ATTRIBUTES,
      'http.response.status_code': 200,
      ...ownUsage(USAGE),
      // From the call span: what the attempt does not know.
      'gen_ai.request.model': SONNET,
      'gen_ai.conversation.id': 'conv-7',
      'gen_ai.response.id': 'msg_01',
      'analytics.record': 'external',
      'service.peer.name': 'anthropic',
      ...pricedBy(priceRow(SONNET), claudeCost(priceRow(SONNET), USAGE)),
    });
  });

  it('keeps a 429 and the 200 retried after it as two rows, with the cost on the 200 only', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    const refused = attempt(call.ctx, 429, { 'error.type': '429' });
    const billed = attempt(call.ctx, 200, ownUsage(USAGE));
    call.span.setAttribute('http.request.resend_count', 1);
    endAnthropicCall(call.span, USAGE);
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([refused, billed]);
    expect(withoutCost(rows[0]!)).toEqual({
      ...ATTEMPT_ATTRIBUTES,
      'http.response.status_code': 429,
      'error.type': '429',
      // What was asked, not what was answered: the 429 carries no usage, response id or cost.
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': SONNET,
      'gen_ai.conversation.id': 'conv-7',
      'analytics.record': 'external',
      'service.peer.name': 'anthropic',
    });
    expect(rows[1]!.attributes).toMatchObject({
      'gen_ai.response.id': 'msg_01',
      'analytics.cost.usd': claudeCost(priceRow(SONNET), USAGE),
    });
  });

  it("fills in the call span's usage on the billed attempt alone when no attempt read its own", () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    attempt(call.ctx, 429);
    // A body too large to read: the attempt has a reason, no usage.
    attempt(call.ctx, 200, {
      'gen_ai.provider.name': 'anthropic',
      'analytics.usage.unknown_reason': 'body_too_large',
    });
    endAnthropicCall(call.span, USAGE);
    request.end();

    const [refused, billed] = recordsOf(harness.passed(), 'external');
    expect(withoutCost(refused!)).toEqual({
      ...ATTEMPT_ATTRIBUTES,
      'http.response.status_code': 429,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': SONNET,
      'gen_ai.conversation.id': 'conv-7',
      'analytics.record': 'external',
      'service.peer.name': 'anthropic',
    });
    expect(billed!.attributes).toEqual({
      ...ATTEMPT_ATTRIBUTES,
      'http.response.status_code': 200,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': SONNET,
      'gen_ai.conversation.id': 'conv-7',
      'gen_ai.response.id': 'msg_01',
      'gen_ai.response.model': `${SONNET}-20250929`,
      // The SDK's names, under ours; its input already includes the cache reads and writes.
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.cache_read.input_tokens': 200,
      'gen_ai.usage.cache_creation.input_tokens': 100,
      'gen_ai.usage.output_tokens': 500,
      'analytics.usage.service_tier': 'standard',
      'analytics.record': 'external',
      'service.peer.name': 'anthropic',
      ...pricedBy(priceRow(SONNET), claudeCost(priceRow(SONNET), USAGE)),
    });
  });

  it("prices an attempt that read its own usage from that usage alone, whatever the call span's says", () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    attempt(call.ctx, 200, ownUsage(USAGE));
    endAnthropicCall(call.span, { input: 9000, cacheRead: 0, cacheWrite: 0, output: 9000 });
    request.end();

    const [row] = recordsOf(harness.passed(), 'external');
    expect(row!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.usage.cache_read.input_tokens': 200,
      'gen_ai.usage.cache_creation.input_tokens': 100,
      'analytics.cost.usd': claudeCost(priceRow(SONNET), USAGE),
    });
  });

  it("keeps a call span that had no attempt (a transport not instrumented) as one row, priced from the SDK's names for cache writes", () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    endAnthropicCall(call.span, USAGE);
    // A GenAI instrumentation's span without an HTTP method and without attempts: no row at all.
    harness.provider
      .getTracer('@opentelemetry/instrumentation-openai')
      .startSpan(
        'chat gpt-4o-mini',
        { kind: SpanKind.CLIENT, attributes: { 'gen_ai.system': 'openai' } },
        ctx,
      )
      .end();
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.instrumentationScope.name).toBe('com.anthropic.sdk.typescript');
    // The SDK's cache-write count and service tier under the names rows and prices read, as an
    // attempt it completes gets them: 100 tokens written at the cache-write price, not as input.
    const row = priceRow(SONNET);
    expect(claudeCost(row, USAGE)).not.toBe(claudeCost(row, { ...USAGE, cacheWrite: 0 }));
    expect(rows[0]!.attributes).toEqual({
      ...(call.span as unknown as ReadableSpanLike).attributes,
      'gen_ai.usage.cache_creation.input_tokens': 100,
      'analytics.usage.service_tier': 'standard',
      'analytics.record': 'external',
      'service.peer.name': 'anthropic',
      ...pricedBy(row, claudeCost(row, USAGE)),
    });
  });

  it("prices the hour-long cache writes and the service tier of a call span without attempts from the SDK's names", () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    // Of the 100 tokens written, 40 are kept an hour; the tier is one with a published multiplier.
    endAnthropicCall(call.span, USAGE, 200, {
      'anthropic.usage.cache_creation.ephemeral_1h_input_tokens': 40,
      'anthropic.response.service_tier': 'batch',
    });
    request.end();

    const [row] = recordsOf(harness.passed(), 'external');
    const p = priceRow(SONNET);
    const usd =
      Math.round(
        ((0.5 *
          ((1000 - 200 - 100) * p.inputPerMillion +
            200 * p.cachedInputPerMillion! +
            60 * p.cacheWritePerMillion! +
            40 * p.cacheWrite1hPerMillion! +
            500 * p.outputPerMillion)) /
          1e6) *
          1e8,
      ) / 1e8;
    expect(row!.attributes).toMatchObject({
      'gen_ai.usage.cache_creation.input_tokens': 100,
      'analytics.usage.cache_creation_1h.input_tokens': 40,
      'analytics.usage.service_tier': 'batch',
      'analytics.cost.usd': usd,
    });
  });

  it('finds the call span across an INTERNAL span between it and the attempt', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    const middle = harness.provider
      .getTracer('app')
      .startSpan('retry-wrapper', { kind: SpanKind.INTERNAL }, call.ctx);
    attempt(trace.setSpan(call.ctx, middle), 200, ownUsage(USAGE));
    middle.end();
    endAnthropicCall(call.span, USAGE);
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attributes).toMatchObject({
      'gen_ai.conversation.id': 'conv-7',
      'gen_ai.response.id': 'msg_01',
      'analytics.cost.usd': claudeCost(priceRow(SONNET), USAGE),
    });
  });

  it("gives the attempts of a call made while serving a request the request's user, set after the call", () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    attempt(call.ctx, 429);
    attempt(call.ctx, 200, ownUsage(USAGE));
    endAnthropicCall(call.span, USAGE);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(0);
    context.with(ctx, () => setUser('user-9'));
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.attributes['enduser.id'])).toEqual(['user-9', 'user-9']);
    expect(recordsOf(harness.passed(), 'api')[0]!.attributes['enduser.id']).toBe('user-9');
  });

  it('takes a GenAI instrumentation span without an HTTP method as the caller: it completes the attempt and is no row', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    // As @opentelemetry/instrumentation-openai 0.22 starts and ends its span.
    const genAi = harness.provider.getTracer('@opentelemetry/instrumentation-openai', '0.22.0').startSpan(
      'chat gpt-4o-mini',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.system': 'openai',
          'server.address': 'api.openai.com',
          'server.port': 443,
        },
      },
      ctx,
    );
    const openAiAttempt = harness.startCall(trace.setSpan(ctx, genAi), {
      'server.address': 'api.openai.com',
      'url.full': 'https://api.openai.com/v1/chat/completions',
      'url.path': '/v1/chat/completions',
    });
    openAiAttempt.setAttribute('http.response.status_code', 200);
    openAiAttempt.end();
    genAi.setAttributes({
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 300,
    });
    genAi.end();
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    const mini = priceRow('gpt-4o-mini');
    expect(rows[0]!.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': 'api.openai.com',
      'server.port': 443,
      'url.full': 'https://api.openai.com/v1/chat/completions',
      'url.path': '/v1/chat/completions',
      'http.response.status_code': 200,
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 300,
      'analytics.record': 'external',
      'service.peer.name': 'openai',
      ...pricedBy(
        mini,
        Math.round(((1200 * mini.inputPerMillion + 300 * mini.outputPerMillion) / 1e6) * 1e8) / 1e8,
      ),
    });
  });

  it('completes the attempt from the nearest of nested callers, and none of them is a row', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const chain = harness.provider
      .getTracer('@traceloop/instrumentation-langchain')
      .startSpan('llm.chain', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST' } }, ctx);
    const call = startAnthropicCall(trace.setSpan(ctx, chain), { 'gen_ai.conversation.id': 'inner' });
    attempt(call.ctx, 200, ownUsage(USAGE));
    endAnthropicCall(call.span, USAGE);
    chain.end();
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attributes['gen_ai.conversation.id']).toBe('inner');
  });

  it('holds an attempt until its call span ends when the call ends first, then completes it', () => {
    harness = createProcessorHarness();
    const call = startAnthropicCall(context.active());
    const stream = harness.startCall(call.ctx, ATTEMPT_ATTRIBUTES);
    endAnthropicCall(call.span, USAGE);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(0);
    stream.setAttribute('http.response.status_code', 200);
    stream.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attributes).toMatchObject({
      'gen_ai.response.id': 'msg_01',
      'gen_ai.usage.input_tokens': 1000,
      'analytics.cost.usd': claudeCost(priceRow(SONNET), USAGE),
    });
  });

  it('releases attempts after requestHoldMillis when their call span never ends', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000 });
    const call = startAnthropicCall(context.active());
    attempt(call.ctx, 200);
    vi.advanceTimersByTime(999);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(0);
    vi.advanceTimersByTime(1);
    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attributes['gen_ai.conversation.id']).toBe('conv-7');
    call.span.end();
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
  });

  it('never records a call span open past maxOpenClientSpanMillis as incomplete once it had attempts', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000, maxOpenClientSpanMillis: 2000 });
    // A caller that has its HTTP method from the start (so it is watched as an open call).
    const call = startAnthropicCall(context.active(), SDK_ATTEMPT_ATTRIBUTES);
    attempt(call.ctx, 200);
    vi.advanceTimersByTime(10_000);
    call.span.end();
    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.instrumentationScope.name).toBe('@opentelemetry/instrumentation-undici');
    expect(rows[0]!.attributes['analytics.incomplete']).toBeUndefined();
  });

  it('records an attempt still open past maxOpenClientSpanMillis as incomplete, completed by its caller', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ maxOpenClientSpanMillis: 2000 });
    const call = startAnthropicCall(context.active());
    const open = harness.startCall(call.ctx, ATTEMPT_ATTRIBUTES);
    vi.advanceTimersByTime(3000);
    const [incomplete] = recordsOf(harness.passed(), 'external');
    expect(incomplete?.attributes).toMatchObject({
      'analytics.incomplete': true,
      'gen_ai.conversation.id': 'conv-7',
      'analytics.usage.unknown_reason': 'response_not_finished',
    });
    open.end();
    call.span.end();
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
  });

  it('holds at most 32 attempts on one caller, sending the oldest on first, and bills the last 2xx alone', () => {
    harness = createProcessorHarness();
    const call = startAnthropicCall(context.active());
    for (let i = 0; i < 33; i++) attempt(call.ctx, 200);
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
    endAnthropicCall(call.span, USAGE);
    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(33);
    expect(rows.filter((r) => r.attributes['gen_ai.usage.input_tokens'] !== undefined)).toEqual([rows[32]]);
  });

  it('releases held attempts on forceFlush; a call that ends after with its usage adds no cost then', async () => {
    harness = createProcessorHarness();
    const call = startAnthropicCall(context.active());
    attempt(call.ctx, 200);
    await harness.processor.forceFlush();
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(1);
    endAnthropicCall(call.span, USAGE);
    const rows = recordsOf(harness.passed(), 'external');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(rows[0]!.attributes['analytics.cost.usd']).toBeUndefined();
  });

  it("keeps the call span's usage for a later attempt when the hold deadline sent the billed one on before the call had it", () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000 });
    const call = startAnthropicCall(context.active());
    const early = attempt(call.ctx, 200);
    vi.advanceTimersByTime(1000);
    const late = attempt(call.ctx, 200);
    endAnthropicCall(call.span, USAGE);

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([early, late]);
    expect(rows[0]!.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(rows[0]!.attributes['analytics.cost.usd']).toBeUndefined();
    expect(rows[1]!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 500,
      'analytics.cost.usd': claudeCost(priceRow(SONNET), USAGE),
    });
  });

  it("never prices a call twice: after an attempt sent on early with its own usage, no later one takes the call span's", async () => {
    harness = createProcessorHarness();
    const call = startAnthropicCall(context.active());
    const early = attempt(call.ctx, 200, ownUsage(USAGE));
    await harness.processor.forceFlush();
    const late = attempt(call.ctx, 200);
    endAnthropicCall(call.span, USAGE);

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([early, late]);
    expect(rows.map((r) => r.attributes['analytics.cost.usd'])).toEqual([
      claudeCost(priceRow(SONNET), USAGE),
      undefined,
    ]);
    expect(rows[1]!.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  });

  it('makes an attempt that starts under a call span already ended (a row of its own) an ordinary call: not held, not completed, not priced again', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000 });
    const call = startAnthropicCall(context.active());
    endAnthropicCall(call.span, USAGE);
    const late = attempt(call.ctx, 200);

    // At once, with no timer run: nothing waits for a call that is over.
    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([call.span.spanContext().spanId, late]);
    expect(rows[0]!.attributes['analytics.cost.usd']).toBe(claudeCost(priceRow(SONNET), USAGE));
    expect(rows[1]!.attributes).toEqual({
      ...ATTEMPT_ATTRIBUTES,
      'http.response.status_code': 200,
      'analytics.record': 'external',
      'service.peer.name': 'anthropic',
      'gen_ai.provider.name': 'anthropic',
    });
  });

  it("gives the call span's usage to the last 2xx attempt to its provider, never to a tool call made inside it after", () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startAnthropicCall(ctx);
    const llm = attempt(call.ctx, 200, {
      'gen_ai.provider.name': 'anthropic',
      'analytics.usage.unknown_reason': 'body_too_large',
    });
    const tool = harness.startCall(call.ctx, TOOL_ATTRIBUTES);
    tool.setAttribute('http.response.status_code', 200);
    tool.end();
    endAnthropicCall(call.span, USAGE);
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([llm, tool.spanContext().spanId]);
    expect(rows[0]!.attributes).toMatchObject({
      'gen_ai.response.id': 'msg_01',
      'gen_ai.usage.input_tokens': 1000,
      'analytics.cost.usd': claudeCost(priceRow(SONNET), USAGE),
    });
    // Another call made while the SDK call ran: nothing of the call span's, no LLM cost.
    expect(rows[1]!.attributes).toEqual({
      ...TOOL_ATTRIBUTES,
      'http.response.status_code': 200,
      'analytics.record': 'external',
    });
  });

  it('takes an attempt for the call of a caller that names no host when it goes to the provider the catalog gives its host', () => {
    harness = createProcessorHarness({
      services: [{ name: 'llm-gateway', hosts: ['llm-gateway.internal'], genAiProvider: 'openai' }],
    });
    const { span: request, ctx } = harness.startRequest();
    // As OpenLLMetry's span: the provider, no host.
    const caller = harness.provider.getTracer('opentelemetry.instrumentation.openai.v1').startSpan(
      'openai.chat',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' },
      },
      ctx,
    );
    const callerCtx = trace.setSpan(ctx, caller);
    const gateway = harness.startCall(callerCtx, {
      'server.address': 'llm-gateway.internal',
      'url.full': 'https://llm-gateway.internal/v1/chat/completions',
      'url.path': '/v1/chat/completions',
    });
    gateway.setAttribute('http.response.status_code', 200);
    gateway.end();
    const tool = harness.startCall(callerCtx, TOOL_ATTRIBUTES);
    tool.setAttribute('http.response.status_code', 200);
    tool.end();
    caller.setAttributes({ 'gen_ai.usage.input_tokens': 1200, 'gen_ai.usage.output_tokens': 300 });
    caller.end();
    request.end();

    const mini = priceRow('gpt-4o-mini');
    const [gatewayRow, toolRow] = recordsOf(harness.passed(), 'external');
    expect(gatewayRow!.attributes).toMatchObject({
      'service.peer.name': 'llm-gateway',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1200,
      'analytics.cost.usd':
        Math.round(((1200 * mini.inputPerMillion + 300 * mini.outputPerMillion) / 1e6) * 1e8) / 1e8,
    });
    expect(toolRow!.attributes).toEqual({
      ...TOOL_ATTRIBUTES,
      'http.response.status_code': 200,
      'analytics.record': 'external',
    });
  });

  it('records held and open attempts on shutdown, and not their caller', async () => {
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
    const tracer = harness.provider.getTracer('com.anthropic.sdk.typescript');
    const caller = tracer.startSpan('anthropic.messages.create', {
      kind: SpanKind.CLIENT,
      attributes: { ...SDK_ATTEMPT_ATTRIBUTES, 'gen_ai.conversation.id': 'conv-7' },
    });
    processor.onStart(caller as never, context.active());
    const callerCtx = trace.setSpan(context.active(), caller);
    const finished = harness.startCall(callerCtx, ATTEMPT_ATTRIBUTES);
    processor.onStart(finished as never, callerCtx);
    finished.setAttribute('http.response.status_code', 429);
    finished.end();
    processor.onEnd(finished as never);
    const open = harness.startCall(callerCtx, ATTEMPT_ATTRIBUTES);
    processor.onStart(open as never, callerCtx);
    expect(received).toHaveLength(0);

    await processor.shutdown();
    expect(received.map((s) => s.spanContext().spanId)).toEqual([
      open.spanContext().spanId,
      finished.spanContext().spanId,
    ]);
    expect(received.map((s) => s.attributes['gen_ai.conversation.id'])).toEqual(['conv-7', 'conv-7']);
    expect(received[0]!.attributes['analytics.incomplete']).toBe(true);
  });
});

const FLASH = 'gemini-2.5-flash';

/**
 * A Vertex-style SDK's call span: it names its host and provider (and its HTTP method) from
 * the start, as the Anthropic SDK's does once it sends.
 */
function startVertexCall(ctx: Context): { span: Span; ctx: Context } {
  const span = harness!.provider.getTracer('vertex-sdk', '1.0.0').startSpan(
    'vertex.generateContent',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.provider.name': 'gcp.vertex_ai',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': FLASH,
        'http.request.method': 'POST',
        'server.address': 'us-central1-aiplatform.googleapis.com',
        'server.port': 443,
      },
    },
    ctx,
  );
  return { span, ctx: trace.setSpan(ctx, span) };
}

/** What the Vertex-style SDK records from its response, then ends its span. */
const VERTEX_USAGE = {
  'http.response.status_code': 200,
  'gen_ai.response.model': FLASH,
  'gen_ai.usage.prompt_tokens': 1000,
  'gen_ai.usage.completion_tokens': 200,
};

/** The OAuth token fetch the SDK makes (instrumented) before its model call. */
const TOKEN_ATTRIBUTES = {
  'http.request.method': 'POST',
  'server.address': 'oauth2.googleapis.com',
  'server.port': 443,
  'url.full': 'https://oauth2.googleapis.com/token',
  'url.path': '/token',
};

/** USD for 1,000 input and 200 output tokens of Gemini 2.5 Flash, by hand. */
function flashCost(): number {
  const row = priceRow(FLASH);
  return Math.round(((1000 * row.inputPerMillion + 200 * row.outputPerMillion) / 1e6) * 1e8) / 1e8;
}

describe('a caller all of whose attempts are other calls is a row', () => {
  it('keeps a call span whose only traced attempt is its token fetch as a row priced once from its usage, and the fetch as an ordinary call', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startVertexCall(ctx);
    const token = harness.startCall(call.ctx, TOKEN_ATTRIBUTES);
    token.setAttribute('http.response.status_code', 200);
    token.end();
    // The model call itself went over a transport not instrumented: only the span says so.
    call.span.setAttributes(VERTEX_USAGE);
    call.span.end();
    context.with(ctx, () => setUser('user-3'));
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([
      token.spanContext().spanId,
      call.span.spanContext().spanId,
    ]);
    // Nothing of the call span's: no provider, model, usage or cost.
    expect(rows[0]!.attributes).toEqual({
      ...TOKEN_ATTRIBUTES,
      'http.response.status_code': 200,
      'analytics.record': 'external',
      'enduser.id': 'user-3',
    });
    expect(rows[1]!.instrumentationScope.name).toBe('vertex-sdk');
    expect(rows[1]!.attributes).toEqual({
      ...(call.span as unknown as ReadableSpanLike).attributes,
      // The SDK's usage names, under ours.
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 200,
      'analytics.record': 'external',
      'service.peer.name': 'vertex_ai',
      'enduser.id': 'user-3',
      ...pricedBy(priceRow(FLASH), flashCost()),
    });
  });

  it('sends a token fetch still open when its call span ends on as an ordinary call, not held', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000 });
    const call = startVertexCall(context.active());
    const token = harness.startCall(call.ctx, TOKEN_ATTRIBUTES);
    call.span.setAttributes(VERTEX_USAGE);
    call.span.end();
    token.setAttribute('http.response.status_code', 200);
    token.end();

    // At once, with no timer run.
    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([
      call.span.spanContext().spanId,
      token.spanContext().spanId,
    ]);
    expect(rows[0]!.attributes['analytics.cost.usd']).toBe(flashCost());
    expect(rows[1]!.attributes).toEqual({
      ...TOKEN_ATTRIBUTES,
      'http.response.status_code': 200,
      'analytics.record': 'external',
    });
  });

  it('keeps a call span with a token fetch then its own attempt no row: the attempt is billed, the fetch is an ordinary call', () => {
    harness = createProcessorHarness();
    const { span: request, ctx } = harness.startRequest();
    const call = startVertexCall(ctx);
    const token = harness.startCall(call.ctx, TOKEN_ATTRIBUTES);
    token.setAttribute('http.response.status_code', 200);
    token.end();
    const model = harness.startCall(call.ctx, {
      'server.address': 'us-central1-aiplatform.googleapis.com',
      'url.full': `https://us-central1-aiplatform.googleapis.com/v1/models/${FLASH}:generateContent`,
      'url.path': `/v1/models/${FLASH}:generateContent`,
    });
    model.setAttribute('http.response.status_code', 200);
    model.end();
    call.span.setAttributes(VERTEX_USAGE);
    call.span.end();
    request.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([
      token.spanContext().spanId,
      model.spanContext().spanId,
    ]);
    expect(rows[0]!.attributes).toEqual({
      ...TOKEN_ATTRIBUTES,
      'http.response.status_code': 200,
      'analytics.record': 'external',
    });
    expect(rows[1]!.attributes).toMatchObject({
      'service.peer.name': 'vertex_ai',
      'gen_ai.request.model': FLASH,
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 200,
      'analytics.cost.usd': flashCost(),
    });
  });

  it('makes no row of a span around such a call span: the call span is the row', () => {
    harness = createProcessorHarness();
    const chain = harness.provider
      .getTracer('@traceloop/instrumentation-langchain')
      .startSpan('llm.chain', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST' } });
    const call = startVertexCall(trace.setSpan(context.active(), chain));
    const token = harness.startCall(call.ctx, TOKEN_ATTRIBUTES);
    token.setAttribute('http.response.status_code', 200);
    token.end();
    call.span.setAttributes(VERTEX_USAGE);
    call.span.end();
    chain.end();

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([
      token.spanContext().spanId,
      call.span.spanContext().spanId,
    ]);
    expect(rows[1]!.attributes['analytics.cost.usd']).toBe(flashCost());
  });

  it('records such a call span still open past maxOpenClientSpanMillis as incomplete, as one with no attempt', () => {
    vi.useFakeTimers();
    harness = createProcessorHarness({ requestHoldMillis: 1000, maxOpenClientSpanMillis: 2000 });
    const call = startVertexCall(context.active());
    const token = harness.startCall(call.ctx, TOKEN_ATTRIBUTES);
    token.setAttribute('http.response.status_code', 200);
    token.end();
    vi.advanceTimersByTime(3000);

    const rows = recordsOf(harness.passed(), 'external');
    expect(rows.map((r) => r.spanContext().spanId)).toEqual([
      token.spanContext().spanId,
      call.span.spanContext().spanId,
    ]);
    expect(rows[1]!.attributes).toMatchObject({
      'analytics.incomplete': true,
      'analytics.usage.unknown_reason': 'response_not_finished',
    });
    call.span.end();
    expect(recordsOf(harness.passed(), 'external')).toHaveLength(2);
  });
});

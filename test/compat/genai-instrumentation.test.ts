import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PRICES, PRICE_TABLE_VERSION, type ModelPrice } from '../../src/pricing/price-table.js';
import { FAKE_KEYS, LLM_STUB_USAGE, OPENAI_MODEL_SUFFIX } from './support/llm-stub.js';
import { ATTEMPT_ORDER, runCallApp, type CallAppRun } from './support/run-call-app.js';

/**
 * A GenAI instrumentation's own span, for real: `@opentelemetry/instrumentation-openai` 0.22
 * patches openai >=4.19 <7 only, so the app (test/compat/stacks/openai6/app.mjs) runs openai 6
 * from its own stack, composed into a NodeSDK beside our pieces. Its handlers make chat
 * completions against the local stub (a plain call, streams with and without usage, one
 * rate-limited once, one refused) after `setUser('user-7')`. The instrumentation's CLIENT span
 * is around the fetch attempts, so it is no row: each attempt is one, completed with what the
 * span knows, and priced once.
 */

const MODES = ['plain', 'stream', 'stream-no-usage', 'retry', 'fail'] as const;
type Mode = (typeof MODES)[number];
const STUB_MODE: Record<Mode, string> = {
  plain: 'ok',
  stream: 'ok',
  'stream-no-usage': 'ok',
  retry: 'retry',
  fail: 'fail',
};
/** The statuses of the attempts each mode makes, in order. */
const ATTEMPTS: Record<Mode, number[]> = {
  plain: [200],
  stream: [200],
  'stream-no-usage': [200],
  retry: [429, 200],
  fail: [400],
};
const MODEL = 'gpt-4o-mini';
const OPENAI_SCOPE = '@opentelemetry/instrumentation-openai';
const UNDICI_SCOPE = '@opentelemetry/instrumentation-undici';
const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
/** `SpanKind` values as the app prints them. */
const SERVER = 1;
const CLIENT = 2;

interface PrintedSpan {
  name: string;
  kind: number;
  scope: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: Record<string, unknown>;
}

/** The row of the published price table in force now (the stub answers undated snapshots). */
function price(model: string): ModelPrice {
  const day = new Date().toISOString().slice(0, 10);
  const row = DEFAULT_MODEL_PRICES.filter((r) => r.model === model && (r.effectiveFrom ?? '') <= day).at(-1);
  if (!row) throw new Error(`no published price for ${model}`);
  return row;
}

/** USD for the stub's OpenAI usage at `model`'s published prices, by hand, to 8 decimals. */
function expectedCost(model: string): number {
  const p = price(model);
  const o = LLM_STUB_USAGE.openai;
  const usd =
    (o.prompt - o.cached) * p.inputPerMillion +
    o.cached * p.cachedInputPerMillion! +
    o.completion * p.outputPerMillion;
  return Math.round((usd / 1e6) * 1e8) / 1e8;
}

function priceMetadata(row: ModelPrice): Record<string, unknown> {
  return {
    cost_model: 'per_token',
    cost_source: 'local',
    price_source: row.source,
    price_checked_at: row.checkedAt,
    ...(row.effectiveFrom !== undefined && { price_effective_from: row.effectiveFrom }),
    price_table_version: PRICE_TABLE_VERSION,
  };
}

describe('@opentelemetry/instrumentation-openai composed into a NodeSDK with openai 6: its span completes the attempts', () => {
  let run: CallAppRun;
  let spans: PrintedSpan[];
  /** The instrumentation's span of each call, in the order the calls were made. */
  let callers: Map<Mode, PrintedSpan>;

  beforeAll(async () => {
    run = await runCallApp(
      'genai_instrumentation',
      'test/compat/stacks/openai6/app.mjs',
      MODES.map((mode) => ({ mode })),
      { register: false },
    );
    const line = run.stdout.split('\n').find((l) => l.startsWith('spans: '));
    spans = line ? (JSON.parse(line.slice('spans: '.length)) as PrintedSpan[]) : [];
    const own = spans.filter((s) => s.scope === OPENAI_SCOPE);
    callers = new Map(MODES.map((mode, i) => [mode, own[i]!]));
  });
  afterAll(async () => {
    await run?.db.drop();
  });

  const attemptsOf = (caller: PrintedSpan): PrintedSpan[] =>
    spans.filter((s) => s.parentSpanId === caller.spanId);

  it('answers every call as the SDK returned it: text, or the 400 the stub refused it with', () => {
    expect(MODES.map((mode) => [mode, run.answers.get(mode)])).toEqual(
      MODES.map((mode) => [
        mode,
        mode === 'fail'
          ? { status: 502, body: { status: 400, message: '400 the stub refuses this request' } }
          : { status: 200, body: { text: expect.any(String) } },
      ]),
    );
  });

  it("starts the instrumentation's CLIENT span per call, inside the request, around that call's fetch attempts", () => {
    const own = spans.filter((s) => s.scope === OPENAI_SCOPE);
    expect(own.map((s) => [s.name, s.kind])).toEqual(MODES.map(() => [`chat ${MODEL}`, CLIENT]));
    for (const mode of MODES) {
      const caller = callers.get(mode)!;
      const parent = spans.find((s) => s.spanId === caller.parentSpanId);
      expect([parent?.scope, parent?.kind], mode).toEqual([HTTP_SCOPE, SERVER]);
      expect(
        attemptsOf(caller).map((s) => [s.scope, s.kind]),
        mode,
      ).toEqual(ATTEMPTS[mode].map(() => [UNDICI_SCOPE, CLIENT]));
    }
    // Every attempt the stub received is under one of them.
    const attempts = spans.filter((s) => s.scope === UNDICI_SCOPE);
    expect(attempts).toHaveLength(run.stubRequests.length);
    expect(attempts.filter((s) => !own.some((c) => c.spanId === s.parentSpanId))).toEqual([]);
  });

  it('has the instrumentation record the request, and the answer and usage it read, on its span', () => {
    const o = LLM_STUB_USAGE.openai;
    const asked = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': MODEL,
      'gen_ai.system': 'openai',
    };
    const answered = {
      ...asked,
      'gen_ai.response.id': 'chatcmpl-stub',
      'gen_ai.response.model': `${MODEL}${OPENAI_MODEL_SUFFIX}`,
    };
    const usage = { 'gen_ai.usage.input_tokens': o.prompt, 'gen_ai.usage.output_tokens': o.completion };
    expect(Object.fromEntries(MODES.map((mode) => [mode, callers.get(mode)!.attributes]))).toMatchObject({
      plain: { ...answered, ...usage },
      stream: { ...answered, ...usage },
      'stream-no-usage': answered,
      retry: { ...answered, ...usage },
      fail: { ...asked, 'error.type': 'BadRequestError' },
    });
    expect(callers.get('stream-no-usage')!.attributes).not.toHaveProperty('gen_ai.usage.input_tokens');
  });

  it('records one row per attempt, the attempt itself, never the instrumentation span', async () => {
    const stored = await run.db.query<{ span_id: string; status_code: number }>(
      `select span_id, status_code from external_api_call_log order by ${ATTEMPT_ORDER}`,
    );
    const attempts = MODES.flatMap((mode) => attemptsOf(callers.get(mode)!));
    expect(stored.map((r) => r.span_id).sort()).toEqual(attempts.map((s) => s.spanId).sort());
    expect(run.stubRequests.map((r) => r.status)).toEqual(MODES.flatMap((mode) => ATTEMPTS[mode]));
  });

  it("records each attempt whole, completed with the span's request model and response id, priced once", () => {
    const p = price(MODEL);
    const answered = {
      host: '127.0.0.1',
      provider: 'openai',
      operation: 'chat',
      // Our capture reads responses, not requests: the model asked for is the span's.
      request_model: MODEL,
      response_model: `${MODEL}${OPENAI_MODEL_SUFFIX}`,
      // On the billed attempt only: the answer it belongs to.
      response_id: 'chatcmpl-stub',
    };
    const o = LLM_STUB_USAGE.openai;
    const usage = { input_tokens: o.prompt, cached_input_tokens: o.cached, output_tokens: o.completion };
    const billed = { cost_estimate: expectedCost(MODEL).toFixed(8), error_message: null };
    const refused = (status: number) => ({
      status_code: status,
      cost_estimate: '0.00000000',
      error_message: status === 429 ? 'Too Many Requests' : 'Bad Request',
      metadata: {
        host: '127.0.0.1',
        provider: 'openai',
        operation: 'chat',
        request_model: MODEL,
        usage_unknown_reason: 'no_usage_in_response',
        cost_model: 'per_token',
        cost_source: 'local',
      },
    });
    const expected: Record<Mode, object[]> = {
      plain: [
        {
          status_code: 200,
          ...billed,
          metadata: { ...answered, ...usage, service_tier: 'default', ...priceMetadata(p) },
        },
      ],
      // The stream's chunks name no service tier.
      stream: [{ status_code: 200, ...billed, metadata: { ...answered, ...usage, ...priceMetadata(p) } }],
      // Neither the attempt nor the span saw a usage: no price rather than an invented one.
      'stream-no-usage': [
        {
          status_code: 200,
          cost_estimate: null,
          error_message: null,
          metadata: {
            ...answered,
            usage_unknown_reason: 'no_usage_in_response',
            cost_unknown_reason: 'no_usage_in_response',
          },
        },
      ],
      retry: [
        refused(429),
        {
          status_code: 200,
          ...billed,
          metadata: { ...answered, ...usage, service_tier: 'default', ...priceMetadata(p) },
        },
      ],
      fail: [refused(400)],
    };
    for (const mode of MODES) {
      const endpoint = `${run.stubUrl}/openai/genai-${mode}.${STUB_MODE[mode]}/v1/chat/completions`;
      const rows = run.rows.filter((row) => row.endpoint === endpoint);
      const sent = run.stubRequests.filter((r) => r.url.startsWith(`/openai/genai-${mode}.`));
      expect(
        rows.map(({ trace_id: _trace, ...row }) => row),
        mode,
      ).toEqual(
        expected[mode].map((row, i) => ({
          user_id: 'user-7',
          service: 'openai',
          endpoint,
          method: 'POST',
          // Sizes as on the wire.
          request_size: String(sent[i]!.bodyBytes),
          response_size: String(sent[i]!.responseBytes),
          ...row,
        })),
      );
      // The attempts of one call are in its request's trace.
      expect(new Set(rows.map((row) => row.trace_id)).size, mode).toBe(1);
    }
    expect(run.rows).toHaveLength(run.stubRequests.length);
  });

  it("attributes every attempt, and every request, to the handler's user", () => {
    expect(run.rows.map((row) => row.user_id)).toEqual(run.rows.map(() => 'user-7'));
    expect(run.requests.map((r) => [r.path, r.status_code, r.user_id])).toEqual(
      MODES.map((mode) => [`/call?mode=${mode}`, mode === 'fail' ? 502 : 200, 'user-7']),
    );
  });

  it('sends no trace context to the provider', () => {
    expect(run.stubRequests.filter((r) => r.headers.traceparent ?? r.headers.baggage)).toEqual([]);
  });

  it('keeps the API key out of the database and out of what the app printed', () => {
    // The stub answers 401 to a call without its key: the key was really sent.
    expect(run.stubRequests.filter((r) => r.status === 401)).toEqual([]);
    for (const [table, text] of Object.entries(run.tableText)) {
      expect(text.includes(FAKE_KEYS.openai), table).toBe(false);
    }
    expect(run.tableText.external_api_call_log).not.toMatch(/sk-test/);
    expect(run.stdout).not.toContain(FAKE_KEYS.openai);
    expect(run.stderr).not.toContain(FAKE_KEYS.openai);
  });
});

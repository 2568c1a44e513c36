import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PRICES, type ModelPrice } from '../../src/pricing/price-table.js';
import {
  ANTHROPIC_MODEL_SUFFIX,
  FAKE_KEYS,
  LLM_STUB_USAGE,
  OPENAI_MODEL_SUFFIX,
} from './support/llm-stub.js';
import { runCallApp, type CallRow, type CallAppRun } from './support/run-call-app.js';

/**
 * The LLM SDKs people use, each called from a request handler (which sets the user) with its
 * base URL pointed at a local stub: a plain call, a streamed one, one the stub rate-limits once
 * (429, then 200) and one it refuses (400). Every attempt is one row, priced from the published
 * price table for the stub's token counts, once; no API key reaches the database. Run under the
 * register entry with and without the SDKs' own tracing, and composed into a NodeSDK beside
 * `@opentelemetry/instrumentation-openai`.
 */

type Provider = 'openai' | 'anthropic' | 'gemini';

interface SdkCase {
  sdk: string;
  provider: Provider;
  /** The model the app asks for. */
  model: string;
  /** The provider path of a plain call, and of a streamed one when it differs. */
  path: string;
  streamPath?: string;
}

const SDKS: readonly SdkCase[] = [
  { sdk: 'openai-chat', provider: 'openai', model: 'gpt-4o-mini', path: '/v1/chat/completions' },
  { sdk: 'openai-responses', provider: 'openai', model: 'gpt-4.1', path: '/v1/responses' },
  { sdk: 'anthropic', provider: 'anthropic', model: 'claude-haiku-4-5', path: '/v1/messages' },
  {
    sdk: 'genai',
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    path: '/v1/models/gemini-2.5-flash:generateContent',
    streamPath: '/v1/models/gemini-2.5-flash:streamGenerateContent',
  },
  { sdk: 'vercel-openai', provider: 'openai', model: 'gpt-4.1', path: '/v1/responses' },
  { sdk: 'vercel-openai-chat', provider: 'openai', model: 'gpt-4o-mini', path: '/v1/chat/completions' },
  { sdk: 'vercel-anthropic', provider: 'anthropic', model: 'claude-haiku-4-5', path: '/v1/messages' },
  {
    sdk: 'vercel-google',
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    path: '/v1beta/models/gemini-2.5-flash:generateContent',
    streamPath: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
  },
  { sdk: 'langchain', provider: 'openai', model: 'gpt-4o-mini', path: '/v1/chat/completions' },
];

const MODES = ['plain', 'stream', 'retry', 'fail'] as const;
type Mode = (typeof MODES)[number];
const STUB_MODE: Record<Mode, string> = { plain: 'ok', stream: 'ok', retry: 'retry', fail: 'fail' };
/** The statuses of the attempts each mode makes, in order. */
const ATTEMPTS: Record<Mode, number[]> = { plain: [200], stream: [200], retry: [429, 200], fail: [400] };
const CALLS = SDKS.flatMap(({ sdk }) => MODES.map((mode) => ({ sdk, mode })));

/** The row of the published price table in force now (the stub answers undated snapshots). */
function price(model: string): ModelPrice {
  const day = new Date().toISOString().slice(0, 10);
  const row = DEFAULT_MODEL_PRICES.filter((r) => r.model === model && (r.effectiveFrom ?? '') <= day).at(-1);
  if (!row) throw new Error(`no published price for ${model}`);
  return row;
}

/** USD for the stub's token counts at `model`'s published prices, worked out by hand. */
function expectedCost(provider: Provider, model: string): number {
  const p = price(model);
  let usd: number;
  if (provider === 'openai') {
    const o = LLM_STUB_USAGE.openai;
    usd =
      (o.prompt - o.cached) * p.inputPerMillion +
      o.cached * p.cachedInputPerMillion! +
      o.completion * p.outputPerMillion;
  } else if (provider === 'anthropic') {
    const a = LLM_STUB_USAGE.anthropic;
    usd =
      a.input * p.inputPerMillion +
      a.cacheRead * p.cachedInputPerMillion! +
      a.cacheWrite5m * p.cacheWritePerMillion! +
      a.cacheWrite1h * p.cacheWrite1hPerMillion! +
      a.output * p.outputPerMillion;
  } else {
    const g = LLM_STUB_USAGE.gemini;
    usd =
      (g.prompt - g.cached) * p.inputPerMillion +
      g.cached * p.cachedInputPerMillion! +
      (g.candidates + g.thoughts) * p.outputPerMillion;
  }
  return round8(usd / 1e6);
}

/** To the 8 decimals `numeric(14,8)` keeps. */
const round8 = (usd: number): number => Math.round(usd * 1e8) / 1e8;

/** What the stub's usage is stored as, by provider (OTel counting: input includes cache). */
function expectedTokens(c: SdkCase): Record<string, unknown> {
  if (c.provider === 'openai') {
    const o = LLM_STUB_USAGE.openai;
    return {
      provider: 'openai',
      operation: 'chat',
      response_model: `${c.model}${OPENAI_MODEL_SUFFIX}`,
      input_tokens: o.prompt,
      cached_input_tokens: o.cached,
      output_tokens: o.completion,
    };
  }
  if (c.provider === 'anthropic') {
    const a = LLM_STUB_USAGE.anthropic;
    return {
      provider: 'anthropic',
      operation: 'chat',
      response_model: `${c.model}${ANTHROPIC_MODEL_SUFFIX}`,
      input_tokens: a.input + a.cacheRead + a.cacheWrite5m + a.cacheWrite1h,
      cached_input_tokens: a.cacheRead,
      cache_write_input_tokens: a.cacheWrite5m + a.cacheWrite1h,
      cache_write_1h_input_tokens: a.cacheWrite1h,
      output_tokens: a.output,
    };
  }
  const g = LLM_STUB_USAGE.gemini;
  return {
    provider: 'gcp.gemini',
    operation: 'generate_content',
    request_model: c.model,
    response_model: c.model,
    input_tokens: g.prompt,
    cached_input_tokens: g.cached,
    output_tokens: g.candidates + g.thoughts,
    reasoning_tokens: g.thoughts,
  };
}

/** The rows of one call, found by the stub path its base URL named, in order. */
function rowsOf(run: CallAppRun, sdk: string, mode: Mode): CallRow[] {
  const prefix = `/${SDKS.find((c) => c.sdk === sdk)!.provider}/${sdk}-${mode}.${STUB_MODE[mode]}/`;
  return run.rows.filter((row) => new URL(row.endpoint).pathname.startsWith(prefix));
}

/** Checks every configuration makes: the contract does not depend on who else traces. */
function describeCalls(getRun: () => CallAppRun): void {
  it('answers every call as the SDK returned it: text, or the 400 the stub refused it with', () => {
    const run = getRun();
    const seen = CALLS.map(({ sdk, mode }) => {
      const answer = run.answers.get(`${sdk} ${mode}`)!;
      return `${sdk} ${mode}: ${answer.status} ${answer.status === 200 ? typeof answer.body.text : String(answer.body.status)}`;
    });
    expect(seen).toEqual(
      CALLS.map(({ sdk, mode }) => `${sdk} ${mode}: ${mode === 'fail' ? '502 400' : '200 string'}`),
    );
  });

  it('records one row per attempt the provider received: a retried call twice, a refused one once', () => {
    const run = getRun();
    const statuses = (sdk: string, mode: Mode) => rowsOf(run, sdk, mode).map((row) => row.status_code);
    expect(CALLS.map(({ sdk, mode }) => `${sdk} ${mode}: ${statuses(sdk, mode).join(',')}`)).toEqual(
      CALLS.map(({ sdk, mode }) => `${sdk} ${mode}: ${ATTEMPTS[mode].join(',')}`),
    );
    // And the stub saw exactly those attempts: no row without one, no attempt without a row.
    expect(run.stubRequests.map((r) => r.status)).toEqual(CALLS.flatMap(({ mode }) => ATTEMPTS[mode]));
    expect(run.rows).toHaveLength(run.stubRequests.length);
  });

  it('prices each call once, exactly, on the attempt that was billed (published prices, stub usage)', () => {
    const run = getRun();
    const costs = (sdk: string, mode: Mode) =>
      rowsOf(run, sdk, mode).map((row) => (row.cost_estimate === null ? null : Number(row.cost_estimate)));
    expect(Object.fromEntries(CALLS.map(({ sdk, mode }) => [`${sdk} ${mode}`, costs(sdk, mode)]))).toEqual(
      Object.fromEntries(
        CALLS.map(({ sdk, mode }) => {
          const c = SDKS.find((s) => s.sdk === sdk)!;
          const billed = expectedCost(c.provider, c.model);
          // Refused and rate-limited attempts are not billed: 0, not an unknown price.
          return [`${sdk} ${mode}`, ATTEMPTS[mode].map((status) => (status === 200 ? billed : 0))];
        }),
      ),
    );
  });

  it("attributes every attempt, and every request, to the handler's user", () => {
    const run = getRun();
    expect(run.rows.filter((row) => row.user_id !== 'user-7')).toEqual([]);
    expect(run.requests).toHaveLength(CALLS.length);
    expect(run.requests.filter((r) => r.user_id !== 'user-7')).toEqual([]);
  });

  it('records each attempt whole: service, endpoint, method, status, sizes, error, model and tokens', () => {
    const run = getRun();
    for (const c of SDKS) {
      for (const mode of MODES) {
        const path = mode === 'stream' ? (c.streamPath ?? c.path) : c.path;
        const endpoint = `${run.stubUrl}/${c.provider}/${c.sdk}-${mode}.${STUB_MODE[mode]}${path}`;
        const expected = ATTEMPTS[mode].map((status) => ({
          service: c.provider,
          endpoint,
          method: 'POST',
          status_code: status,
          error_message: status === 200 ? null : status === 429 ? 'Too Many Requests' : 'Bad Request',
          metadata:
            status === 200
              ? { ...expectedTokens(c), cost_model: 'per_token', cost_source: 'local' }
              : {
                  provider: expectedTokens(c).provider,
                  operation: expectedTokens(c).operation,
                  // Only a Gemini URL names the model: without its body, an error says nothing more.
                  ...(c.provider === 'gemini' && { request_model: c.model }),
                  usage_unknown_reason: 'no_usage_in_response',
                  cost_model: 'per_token',
                },
        }));
        const rows = rowsOf(run, c.sdk, mode);
        expect(rows, `${c.sdk} ${mode}`).toMatchObject(expected);
        // Sizes as on the wire (compressed, chunked or streamed bodies included).
        const sent = run.stubRequests.filter((r) => r.url.startsWith(`/${c.provider}/${c.sdk}-${mode}.`));
        expect(
          rows.map((row) => [row.request_size, row.response_size]),
          `${c.sdk} ${mode} sizes`,
        ).toEqual(sent.map((r) => [String(r.bodyBytes), String(r.responseBytes)]));
      }
    }
  });

  it('keeps every API key out of the database and out of what the app printed', () => {
    const run = getRun();
    // The stub answered 401 to any call that lacked its key: the keys were really sent.
    expect(run.stubRequests.filter((r) => r.status === 401)).toEqual([]);
    for (const key of Object.values(FAKE_KEYS)) {
      for (const [table, text] of Object.entries(run.tableText)) {
        expect(text.includes(key), `${key} in ${table}`).toBe(false);
      }
      expect(run.stderr).not.toContain(key);
    }
    expect(run.tableText.external_api_call_log).not.toMatch(/sk-test|sk-ant|AIza/);
  });
}

/** The attempts of the calls the Anthropic SDK traced itself. */
function describeTracedAnthropic(getRun: () => CallAppRun): void {
  it("enriches the attempts of the Anthropic SDK's traced calls with the model it asked for", () => {
    // The SDK's call span is no row of its own: what it knows goes on its attempts.
    const run = getRun();
    for (const mode of MODES) {
      expect(
        rowsOf(run, 'anthropic', mode).map((row) => row.metadata.request_model),
        mode,
      ).toEqual(ATTEMPTS[mode].map(() => 'claude-haiku-4-5'));
    }
  });
}

describe('LLM SDKs under the register entry, their own tracing off', () => {
  let run: CallAppRun;
  beforeAll(async () => {
    run = await runCallApp('llm_sdks_plain', 'test/compat/apps/llm-sdk-app.mjs', CALLS, {
      env: { ANTHROPIC_OPEN_TELEMETRY: 'false' },
    });
  });
  afterAll(async () => {
    await run?.db.drop();
  });

  describeCalls(() => run);

  it('sends no trace context to the providers', () => {
    expect(run.stubRequests.filter((r) => r.headers.traceparent ?? r.headers.baggage)).toEqual([]);
  });
});

describe('LLM SDKs under the register entry, the Anthropic SDK tracing itself', () => {
  let run: CallAppRun;
  beforeAll(async () => {
    run = await runCallApp('llm_sdks_traced', 'test/compat/apps/llm-sdk-app.mjs', CALLS);
  });
  afterAll(async () => {
    await run?.db.drop();
  });

  describeCalls(() => run);
  describeTracedAnthropic(() => run);

  it("sends no trace context to the providers, the Anthropic SDK's own included", () => {
    expect(run.stubRequests.filter((r) => r.headers.traceparent ?? r.headers.baggage)).toEqual([]);
  });
});

describe('LLM SDKs in an app composing our pieces and @opentelemetry/instrumentation-openai into its NodeSDK', () => {
  let run: CallAppRun;
  beforeAll(async () => {
    run = await runCallApp('llm_sdks_composed', 'test/compat/apps/composed-genai-sdk.mjs', CALLS, {
      register: false,
    });
  });
  afterAll(async () => {
    await run?.db.drop();
  });

  describeCalls(() => run);
  describeTracedAnthropic(() => run);

  it('saw the Anthropic call spans around their attempts, and no span of instrumentation-openai 0.22 (openai <7 only)', () => {
    const line = run.stdout.split('\n').find((l) => l.startsWith('spans: '));
    const spans = JSON.parse(line!.slice('spans: '.length)) as {
      scope: string;
      spanId: string;
      parentSpanId?: string;
    }[];
    const calls = spans.filter((s) => s.scope === 'com.anthropic.sdk.typescript');
    expect(calls).toHaveLength(MODES.length);
    const attempts = spans.filter((s) => calls.some((c) => c.spanId === s.parentSpanId));
    expect(attempts.map((s) => s.scope)).toEqual(
      MODES.flatMap((mode) => ATTEMPTS[mode].map(() => '@opentelemetry/instrumentation-undici')),
    );
    // Its module definition covers openai >=4.19.0 <7: with openai 7 it patches nothing. A
    // version that does will show up here, and its spans must then fold into their attempts too,
    // as they do with openai 6 in genai-instrumentation.test.ts.
    expect(spans.filter((s) => s.scope.includes('instrumentation-openai'))).toEqual([]);
  });
});

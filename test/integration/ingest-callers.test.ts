import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { IngestPipeline } from '../../ingest/ingest-pipeline.js';
import { IngestServer } from '../../ingest/ingest-server.js';
import { DEFAULT_MODEL_PRICES, PRICE_TABLE_VERSION, type ModelPrice } from '../../src/pricing/price-table.js';
import {
  djangoServerSpan,
  hexId,
  otlpRequest,
  PYTHON_RESOURCE,
  START_NANOS,
  type OtlpScopeInput,
} from '../helpers/otlp-payloads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'];
const NODE_RESOURCE = { 'service.name': 'agent-node', 'telemetry.sdk.language': 'nodejs' };
const START = new Date(Number(START_NANOS / 1_000_000n));

let db: TestDatabase;
let url: string;
let exporter: PostgresSpanExporter;
let close: () => Promise<void>;

beforeAll(async () => {
  db = await createTestDatabase('ingest_callers');
  exporter = new PostgresSpanExporter({ connectionString: db.url, statsIntervalMillis: 0 });
  const pipeline = new IngestPipeline({ exporter });
  const server = new IngestServer({ pipeline, port: 0 });
  url = `http://127.0.0.1:${(await server.listen()).port}/v1/traces`;
  close = async () => {
    await server.close();
    await pipeline.shutdown();
  };
});

afterAll(async () => {
  await close?.();
  await db?.drop();
});

beforeEach(async () => {
  for (const table of TABLES) await db.query(`delete from ${table}`);
});

/** Sends one OTLP/JSON export (one batch) and waits for its rows. */
async function send(resource: Record<string, string>, scopes: OtlpScopeInput[]): Promise<void> {
  await sendRequest(otlpRequest(resource, scopes));
}

/** Sends one OTLP/JSON export of several resources' spans (a Collector's batch) and waits for its rows. */
async function sendRequest(body: { resourceSpans: unknown[] }): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  await exporter.forceFlush();
}

function priceRow(model: string): ModelPrice {
  const day = new Date().toISOString().slice(0, 10);
  return DEFAULT_MODEL_PRICES.filter((r) => r.model === model && (r.effectiveFrom ?? '') <= day).at(-1)!;
}

/** The price metadata of a per-token cost from `row`. */
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

/** A call row's cost, after checking that a refused attempt counts none (0, or none at all). */
function refusedCost(row: Record<string, unknown>): Record<string, unknown> {
  const { cost_estimate: cost, metadata, ...rest } = row;
  expect(Number(cost ?? 0)).toBe(0);
  const { cost_model: _model, cost_source: _source, ...kept } = metadata as Record<string, unknown>;
  return { ...rest, metadata: kept };
}

describe('ingest: one row per HTTP attempt', () => {
  it('drops a caller in the batch of its attempts, and gives its usage to the billed attempt only', async () => {
    const traceId = hexId(16);
    const server = djangoServerSpan({ traceId, spanId: hexId(8) });
    // An OpenLLMetry-style span around the HTTP client's attempts: a 429, then the 200.
    const caller = {
      name: 'openai.chat',
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: server.spanId!,
      durationMillis: 40,
      attributes: {
        'gen_ai.system': 'openai',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.response.id': 'chatcmpl-9',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.cache_read_input_tokens': 200,
        'gen_ai.prompt.0.content': 'tell me a secret',
      },
    };
    const httpx = (status: number, durationMillis: number) => ({
      name: 'POST',
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: caller.spanId,
      durationMillis,
      attributes: {
        'http.method': 'POST',
        'http.url': 'https://api.openai.com/v1/chat/completions',
        'http.status_code': status,
      },
    });
    const refused = httpx(429, 5);
    const billed = httpx(200, 30);
    // A call span of an SDK whose transport is not instrumented: no attempts, so a row as before.
    const lone = {
      name: 'anthropic.messages.create',
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: server.spanId!,
      durationMillis: 50,
      attributes: {
        'http.request.method': 'POST',
        'url.full': 'https://api.anthropic.com/v1/messages',
        'server.address': 'api.anthropic.com',
        'http.response.status_code': 200,
      },
    };
    await send(PYTHON_RESOURCE, [
      { scope: { name: 'opentelemetry.instrumentation.django' }, spans: [server] },
      { scope: { name: 'opentelemetry.instrumentation.httpx' }, spans: [refused, billed] },
      { scope: { name: 'opentelemetry.instrumentation.openai.v1' }, spans: [caller] },
      { scope: { name: 'anthropic-sdk' }, spans: [lone] },
    ]);

    expect(await db.query('select span_id from api_access_log')).toEqual([{ span_id: server.spanId }]);
    const rows = await db.query(
      'select time, trace_id, span_id, service_name, user_id, service, endpoint, method, status_code, response_time_ms, cost_estimate, request_size, response_size, error_message, metadata from external_api_call_log order by response_time_ms',
    );
    const mini = priceRow('gpt-4o-mini');
    const common = {
      time: START,
      trace_id: traceId,
      service_name: 'shop-django',
      user_id: null,
      service: 'openai',
      endpoint: 'https://api.openai.com/v1/chat/completions',
      method: 'POST',
      request_size: null,
      response_size: null,
    };
    expect(rows).toHaveLength(3);
    expect(refusedCost(rows[0]!)).toEqual({
      ...common,
      span_id: refused.spanId,
      status_code: 429,
      response_time_ms: 5,
      error_message: 'Too Many Requests',
      // What was asked; neither the answer nor the usage belongs to the 429.
      metadata: {
        host: 'api.openai.com',
        provider: 'openai',
        operation: 'chat',
        request_model: 'gpt-4o-mini',
      },
    });
    expect(rows[1]).toEqual({
      ...common,
      span_id: billed.spanId,
      status_code: 200,
      response_time_ms: 30,
      // 1,000 uncached and 200 cached input tokens, 300 output.
      cost_estimate: String(
        (
          (1000 * mini.inputPerMillion + 200 * mini.cachedInputPerMillion! + 300 * mini.outputPerMillion) /
          1e6
        ).toFixed(8),
      ),
      error_message: null,
      metadata: {
        host: 'api.openai.com',
        provider: 'openai',
        operation: 'chat',
        request_model: 'gpt-4o-mini',
        response_model: 'gpt-4o-mini-2024-07-18',
        response_id: 'chatcmpl-9',
        input_tokens: 1200,
        cached_input_tokens: 200,
        output_tokens: 300,
        ...priceMetadata(mini),
      },
    });
    expect(rows[2]).toEqual({
      ...common,
      span_id: lone.spanId,
      service: 'anthropic',
      endpoint: 'https://api.anthropic.com/v1/messages',
      status_code: 200,
      response_time_ms: 50,
      cost_estimate: null,
      error_message: null,
      metadata: { host: 'api.anthropic.com', provider: 'anthropic' },
    });
    expect(JSON.stringify(rows)).not.toContain('tell me a secret');
  });

  it('drops a caller that arrives in a later batch than its attempts, across a span between them', async () => {
    const traceId = hexId(16);
    const request = { spanId: hexId(8) };
    const callSpan = { spanId: hexId(8) };
    const retryScope = { spanId: hexId(8) };
    const innerCall = { spanId: hexId(8) };
    const attemptAttributes = {
      'http.request.method': 'POST',
      'url.full': 'https://api.anthropic.com/v1/messages',
      'url.path': '/v1/messages',
      'server.address': 'api.anthropic.com',
      'server.port': 443,
      'http.response.status_code': 200,
    };
    // Batch 1: the attempts, which end first; their callers are not in it.
    const direct = {
      name: 'POST',
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: callSpan.spanId,
      attributes: attemptAttributes,
    };
    const nested = {
      name: 'POST',
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: retryScope.spanId,
      attributes: attemptAttributes,
    };
    await send(NODE_RESOURCE, [
      { scope: { name: '@opentelemetry/instrumentation-undici' }, spans: [direct, nested] },
    ]);
    // Batch 2: the SDK's call spans (one under an INTERNAL span), and the request.
    const sdkCall = (spanId: string, parentSpanId: string) => ({
      name: 'anthropic.messages.create',
      kind: 3,
      traceId,
      spanId,
      parentSpanId,
      attributes: {
        ...attemptAttributes,
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 10,
      },
    });
    await send(NODE_RESOURCE, [
      {
        scope: { name: 'com.anthropic.sdk.typescript' },
        spans: [sdkCall(callSpan.spanId, request.spanId), sdkCall(innerCall.spanId, request.spanId)],
      },
      {
        scope: { name: 'app' },
        spans: [
          {
            name: 'retry',
            kind: 1,
            traceId,
            spanId: retryScope.spanId,
            parentSpanId: innerCall.spanId,
            attributes: {},
          },
        ],
      },
      {
        scope: { name: '@opentelemetry/instrumentation-http' },
        spans: [
          {
            name: 'POST',
            kind: 2,
            traceId,
            spanId: request.spanId,
            attributes: {
              'http.request.method': 'POST',
              'url.path': '/chat',
              'http.response.status_code': 200,
            },
          },
        ],
      },
    ]);

    expect(await db.query('select span_id from api_access_log')).toEqual([{ span_id: request.spanId }]);
    // Only the attempts; written before their callers came, they stay without the callers' usage.
    const rows = await db.query<{
      span_id: string;
      cost_estimate: string | null;
      metadata: Record<string, unknown>;
    }>('select span_id, cost_estimate, metadata from external_api_call_log order by span_id');
    expect(rows).toEqual(
      [direct.spanId, nested.spanId].sort().map((spanId) => ({
        span_id: spanId,
        cost_estimate: null,
        metadata: { host: 'api.anthropic.com', provider: 'anthropic' },
      })),
    );
  });

  /**
   * Service A (Node) calls service B (Python, a gateway) with an attempt that read its own usage;
   * B's request span is the attempt's child, and B's own attempt to OpenAI (no caller around it
   * in B) is the request's.
   */
  function serviceChain() {
    const traceId = hexId(16);
    const ids = { a1: hexId(8), a2: hexId(8), b1: hexId(8), b2: hexId(8) };
    const aRequest = {
      name: 'POST',
      kind: 2,
      traceId,
      spanId: ids.a1,
      attributes: { 'http.request.method': 'POST', 'url.path': '/ask', 'http.response.status_code': 200 },
    };
    const aAttempt = {
      name: 'POST',
      kind: 3,
      traceId,
      spanId: ids.a2,
      parentSpanId: ids.a1,
      durationMillis: 40,
      attributes: {
        'http.request.method': 'POST',
        'url.full': 'http://llm-gateway.internal:8080/v1/chat/completions',
        'url.path': '/v1/chat/completions',
        'server.address': 'llm-gateway.internal',
        'server.port': 8080,
        'http.response.status_code': 200,
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.id': 'chatcmpl-a',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
      },
    };
    const bRequest = { ...djangoServerSpan({ traceId, spanId: ids.b1 }), parentSpanId: ids.a2 };
    const bAttempt = {
      name: 'POST',
      kind: 3,
      traceId,
      spanId: ids.b2,
      parentSpanId: ids.b1,
      durationMillis: 30,
      attributes: {
        'http.method': 'POST',
        'http.url': 'https://api.openai.com/v1/chat/completions',
        'http.status_code': 200,
      },
    };
    const a = (spans: OtlpScopeInput['spans'][number][]) =>
      otlpRequest(NODE_RESOURCE, [
        ...spans
          .filter((span) => span.kind === 2)
          .map((span) => ({ scope: { name: '@opentelemetry/instrumentation-http' }, spans: [span] })),
        ...spans
          .filter((span) => span.kind === 3)
          .map((span) => ({ scope: { name: '@opentelemetry/instrumentation-undici' }, spans: [span] })),
      ]).resourceSpans;
    const b = (spans: OtlpScopeInput['spans'][number][]) =>
      otlpRequest(PYTHON_RESOURCE, [
        ...spans
          .filter((span) => span.kind === 2)
          .map((span) => ({ scope: { name: 'opentelemetry.instrumentation.django' }, spans: [span] })),
        ...spans
          .filter((span) => span.kind === 3)
          .map((span) => ({ scope: { name: 'opentelemetry.instrumentation.httpx' }, spans: [span] })),
      ]).resourceSpans;
    return { traceId, ids, aRequest, aAttempt, bRequest, bAttempt, a, b };
  }

  /** Each service's attempt is a row of its own, with its own attributes only. */
  async function expectOwnRows(chain: ReturnType<typeof serviceChain>): Promise<void> {
    expect(await db.query('select span_id, service_name from api_access_log order by service_name')).toEqual([
      { span_id: chain.ids.a1, service_name: 'agent-node' },
      { span_id: chain.ids.b1, service_name: 'shop-django' },
    ]);
    const mini = priceRow('gpt-4o-mini');
    expect(
      await db.query(
        'select span_id, service_name, service, endpoint, status_code, cost_estimate, metadata from external_api_call_log order by service_name',
      ),
    ).toEqual([
      {
        span_id: chain.ids.a2,
        service_name: 'agent-node',
        service: 'llm-gateway.internal',
        endpoint: 'http://llm-gateway.internal:8080/v1/chat/completions',
        status_code: 200,
        cost_estimate: String(((1200 * mini.inputPerMillion + 300 * mini.outputPerMillion) / 1e6).toFixed(8)),
        metadata: {
          host: 'llm-gateway.internal',
          provider: 'openai',
          request_model: 'gpt-4o-mini',
          response_id: 'chatcmpl-a',
          input_tokens: 1200,
          output_tokens: 300,
          ...priceMetadata(mini),
        },
      },
      {
        // Nothing of A's attempt: no model, no response id, no usage, no cost.
        span_id: chain.ids.b2,
        service_name: 'shop-django',
        service: 'openai',
        endpoint: 'https://api.openai.com/v1/chat/completions',
        status_code: 200,
        cost_estimate: null,
        metadata: { host: 'api.openai.com', provider: 'openai' },
      },
    ]);
  }

  it("keeps the attempt that called another service's request as a row, and gives none of it to that service's attempt (one batch)", async () => {
    const chain = serviceChain();
    await sendRequest({
      resourceSpans: [
        ...chain.b([chain.bAttempt, chain.bRequest]),
        ...chain.a([chain.aAttempt, chain.aRequest]),
      ],
    });
    await expectOwnRows(chain);
  });

  it("keeps the attempt that called another service's request as a row when each span comes in a batch of its own", async () => {
    const chain = serviceChain();
    await sendRequest({ resourceSpans: chain.b([chain.bAttempt]) });
    await sendRequest({ resourceSpans: chain.b([chain.bRequest]) });
    await sendRequest({ resourceSpans: chain.a([chain.aAttempt]) });
    await sendRequest({ resourceSpans: chain.a([chain.aRequest]) });
    await expectOwnRows(chain);
  });

  it("gives the caller's usage to its attempt to the provider, not to a tool call made inside it after", async () => {
    const traceId = hexId(16);
    const server = djangoServerSpan({ traceId, spanId: hexId(8) });
    const caller = {
      name: 'openai.chat',
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: server.spanId!,
      attributes: {
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.id': 'chatcmpl-9',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
      },
    };
    const httpx = (method: string, httpUrl: string, durationMillis: number) => ({
      name: method,
      kind: 3,
      traceId,
      spanId: hexId(8),
      parentSpanId: caller.spanId,
      durationMillis,
      attributes: { 'http.method': method, 'http.url': httpUrl, 'http.status_code': 200 },
    });
    const llm = httpx('POST', 'https://api.openai.com/v1/chat/completions', 30);
    // Sent after the LLM attempt, as the last 2xx under the caller.
    const tool = httpx('GET', 'https://tools.example.com/weather', 10);
    await send(PYTHON_RESOURCE, [
      { scope: { name: 'opentelemetry.instrumentation.django' }, spans: [server] },
      { scope: { name: 'opentelemetry.instrumentation.httpx' }, spans: [llm, tool] },
      { scope: { name: 'opentelemetry.instrumentation.openai.v1' }, spans: [caller] },
    ]);

    const mini = priceRow('gpt-4o-mini');
    expect(
      await db.query(
        'select span_id, service, endpoint, method, cost_estimate, metadata from external_api_call_log order by response_time_ms',
      ),
    ).toEqual([
      {
        span_id: tool.spanId,
        service: 'tools.example.com',
        endpoint: 'https://tools.example.com/weather',
        method: 'GET',
        cost_estimate: null,
        metadata: { host: 'tools.example.com' },
      },
      {
        span_id: llm.spanId,
        service: 'openai',
        endpoint: 'https://api.openai.com/v1/chat/completions',
        method: 'POST',
        cost_estimate: String(((1200 * mini.inputPerMillion + 300 * mini.outputPerMillion) / 1e6).toFixed(8)),
        metadata: {
          host: 'api.openai.com',
          provider: 'openai',
          request_model: 'gpt-4o-mini',
          response_id: 'chatcmpl-9',
          input_tokens: 1200,
          output_tokens: 300,
          ...priceMetadata(mini),
        },
      },
    ]);
  });

  /**
   * A Vertex-style SDK's call span whose model call went over a transport not instrumented: its
   * only traced attempt is the OAuth token fetch it made first; and, for the second trace, its
   * model call traced too.
   */
  function vertexTrace(withModelAttempt: boolean) {
    const traceId = hexId(16);
    const call = {
      name: 'vertex.generateContent',
      kind: 3,
      traceId,
      spanId: hexId(8),
      durationMillis: 60,
      attributes: {
        'http.request.method': 'POST',
        'url.full':
          'https://us-central1-aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash:generateContent',
        'server.address': 'us-central1-aiplatform.googleapis.com',
        'http.response.status_code': 200,
        'gen_ai.provider.name': 'gcp.vertex_ai',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'gen_ai.usage.prompt_tokens': 1000,
        'gen_ai.usage.completion_tokens': 200,
      },
    };
    const attempt = (spanId: string, durationMillis: number, fullUrl: string) => ({
      name: 'POST',
      kind: 3,
      traceId,
      spanId,
      parentSpanId: call.spanId,
      durationMillis,
      attributes: { 'http.request.method': 'POST', 'url.full': fullUrl, 'http.response.status_code': 200 },
    });
    const token = attempt(hexId(8), 5, 'https://oauth2.googleapis.com/token');
    const model = attempt(hexId(8), 40, call.attributes['url.full']);
    const attempts = withModelAttempt ? [token, model] : [token];
    const scopes = (spans: { attempts?: boolean; call?: boolean }): OtlpScopeInput[] => [
      ...(spans.attempts
        ? [{ scope: { name: '@opentelemetry/instrumentation-undici' }, spans: attempts }]
        : []),
      ...(spans.call ? [{ scope: { name: 'vertex-sdk' }, spans: [call] }] : []),
    ];
    return { call, token, model, scopes };
  }

  const TOKEN_ROW = {
    service: 'oauth2.googleapis.com',
    endpoint: 'https://oauth2.googleapis.com/token',
    cost_estimate: null,
    metadata: { host: 'oauth2.googleapis.com' },
  };

  async function callRows() {
    return db.query(
      'select span_id, service, endpoint, cost_estimate, metadata from external_api_call_log order by response_time_ms',
    );
  }

  it.each([
    ['in one batch', [{ attempts: true, call: true }]],
    ['when the caller comes in a later batch', [{ attempts: true }, { call: true }]],
  ])(
    'keeps a caller whose only attempt is its token fetch as a row priced once from its usage, and the fetch as an ordinary call (%s)',
    async (_, batches) => {
      const { call, token, scopes } = vertexTrace(false);
      for (const batch of batches) await send(NODE_RESOURCE, scopes(batch));

      const flash = priceRow('gemini-2.5-flash');
      expect(await callRows()).toEqual([
        { span_id: token.spanId, ...TOKEN_ROW },
        {
          span_id: call.spanId,
          service: 'vertex_ai',
          endpoint: call.attributes['url.full'],
          cost_estimate: String(
            ((1000 * flash.inputPerMillion + 200 * flash.outputPerMillion) / 1e6).toFixed(8),
          ),
          metadata: {
            host: 'us-central1-aiplatform.googleapis.com',
            provider: 'gcp.vertex_ai',
            operation: 'chat',
            request_model: 'gemini-2.5-flash',
            input_tokens: 1000,
            output_tokens: 200,
            ...priceMetadata(flash),
          },
        },
      ]);
    },
  );

  it.each([
    // The caller completes its attempt: its model, and its usage priced once.
    ['in one batch', [{ attempts: true, call: true }], true],
    // Its attempts were written before it came: without its usage, as before.
    ['when the caller comes in a later batch', [{ attempts: true }, { call: true }], false],
  ])(
    'drops a caller with a token fetch and an attempt of its call, as before (%s)',
    async (_, batches, completed) => {
      const { model, token, scopes } = vertexTrace(true);
      for (const batch of batches) await send(NODE_RESOURCE, scopes(batch));

      const flash = priceRow('gemini-2.5-flash');
      const host = { host: 'us-central1-aiplatform.googleapis.com', provider: 'gcp.vertex_ai' };
      expect(await callRows()).toEqual([
        { span_id: token.spanId, ...TOKEN_ROW },
        {
          span_id: model.spanId,
          service: 'vertex_ai',
          endpoint: model.attributes['url.full'],
          cost_estimate: completed
            ? String(((1000 * flash.inputPerMillion + 200 * flash.outputPerMillion) / 1e6).toFixed(8))
            : null,
          metadata: completed
            ? {
                ...host,
                operation: 'chat',
                request_model: 'gemini-2.5-flash',
                input_tokens: 1000,
                output_tokens: 200,
                ...priceMetadata(flash),
              }
            : host,
        },
      ]);
    },
  );
});

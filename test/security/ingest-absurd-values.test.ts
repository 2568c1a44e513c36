import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import {
  djangoServerSpan,
  hexId,
  otlpRequest,
  PYTHON_RESOURCE,
  pythonRequestsClientSpan,
  START_NANOS,
} from '../helpers/otlp-payloads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack: an export of values no SDK would send, through `otel-pg-analytics ingest` as a
 * user runs it. Before, all of them were stored: status `-1`, an LLM call of 1e15 input and
 * -5 output tokens (into the hourly cost rollups), and requests in 1970 and 2262 (out of every
 * panel, or in the default partition for good).
 */

const CLI = 'dist/cli/otel-pg-analytics.js';
const YEAR_2262_NANOS = 9_200_000_000_000_000_000n;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('ingest_absurd_values');
});

afterAll(async () => {
  await db.drop();
});

/** An OpenAI call from a Python service, with the GenAI usage attributes it reports. */
function llmCall(input: number, output: number) {
  return pythonRequestsClientSpan({
    spanId: hexId(8),
    attributes: {
      'http.method': 'POST',
      'http.url': 'https://api.openai.com/v1/chat/completions',
      'http.status_code': 200,
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.output_tokens': output,
    },
  });
}

/** Sets a span's start and end (nanoseconds) in the OTLP/JSON request. */
function retime(request: { resourceSpans: unknown[] }, spanId: string, start: bigint): void {
  for (const resourceSpans of request.resourceSpans as {
    scopeSpans: { spans: Record<string, unknown>[] }[];
  }[]) {
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        if (span.spanId !== spanId) continue;
        span.startTimeUnixNano = String(start);
        span.endTimeUnixNano = String(start + 25_000_000n);
      }
    }
  }
}

describe('ingest given values no SDK would send', () => {
  it('stores no impossible status, no absurd token count or its cost, and no span far from now', async () => {
    const badStatus = djangoServerSpan({
      spanId: hexId(8),
      attributes: { 'http.method': 'GET', 'http.target': '/weird', 'http.status_code': -1 },
    });
    const in1970 = djangoServerSpan({ spanId: hexId(8) });
    const in2262 = djangoServerSpan({ spanId: hexId(8) });
    const good = djangoServerSpan({ spanId: hexId(8) });
    const absurdCall = llmCall(1e15, -5);
    const honestCall = llmCall(1200, 300);
    const request = otlpRequest(PYTHON_RESOURCE, [
      {
        scope: { name: 'opentelemetry.instrumentation.django' },
        spans: [badStatus, in1970, in2262, good],
      },
      { scope: { name: 'opentelemetry.instrumentation.requests' }, spans: [absurdCall, honestCall] },
    ]);
    retime(request, in1970.spanId!, 1_000_000_000n);
    retime(request, in2262.spanId!, YEAR_2262_NANOS);

    const app = await startApp(CLI, {
      register: false,
      args: ['ingest', '--port', '0'],
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    const response = await fetch(app.url, {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    // The two spans far from now are rejected, as OTLP's partial success says.
    expect(await response.json()).toEqual({
      partialSuccess: {
        rejectedSpans: '2',
        errorMessage: 'start time more than 30 days before the span was received',
      },
    });
    expect((await app.stop('SIGTERM')).code).toBe(0);

    const api = await db.query<{ span_id: string; status_code: number | null; metadata: unknown }>(
      'select span_id, status_code, metadata from api_access_log order by path',
    );
    expect(api.map((r) => r.span_id).sort()).toEqual([badStatus.spanId, good.spanId].sort());
    const weird = api.find((r) => r.span_id === badStatus.spanId)!;
    expect(weird.status_code).toBeNull();
    expect(weird.metadata).toMatchObject({ invalid_status_code: -1 });

    const calls = await db.query<{
      span_id: string;
      cost_estimate: string | null;
      metadata: Record<string, unknown>;
    }>('select span_id, cost_estimate, metadata from external_api_call_log');
    const absurd = calls.find((r) => r.span_id === absurdCall.spanId)!;
    expect(absurd.cost_estimate).toBeNull();
    expect(absurd.metadata).toMatchObject({
      usage_unknown_reason: 'invalid_usage_count',
      cost_unknown_reason: 'invalid_usage_count',
    });
    expect(absurd.metadata).not.toHaveProperty('input_tokens');
    expect(absurd.metadata).not.toHaveProperty('output_tokens');
    const honest = calls.find((r) => r.span_id === honestCall.spanId)!;
    expect(honest.metadata).toMatchObject({ input_tokens: 1200, output_tokens: 300 });
    expect(Number(honest.cost_estimate)).toBeGreaterThan(0);

    // The hourly rollup holds the honest call's tokens and cost only.
    const [rollup] = await db.query<{ input_tokens: string; output_tokens: string; cost_usd: string }>(
      `select sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens, sum(cost_usd) as cost_usd
       from analytics_external_hourly`,
    );
    expect(Number(rollup!.input_tokens)).toBe(1200);
    expect(Number(rollup!.output_tokens)).toBe(300);
    expect(Number(rollup!.cost_usd)).toBeCloseTo(Number(honest.cost_estimate), 8);

    // Every row is from around now (the spans start a minute before the test).
    const [range] = await db.query<{ earliest: Date; latest: Date }>(
      `select min(time) as earliest, max(time) as latest from
       (select time from api_access_log union all select time from external_api_call_log) t`,
    );
    const startMillis = Number(START_NANOS / 1_000_000n);
    expect(range!.earliest.getTime()).toBeGreaterThanOrEqual(startMillis - 1);
    expect(range!.latest.getTime()).toBeLessThan(Date.now() + 60_000);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUB_RECORDS, STUB_USAGE, startStubApis, stubServices } from '../../examples/stub-apis.mjs';
import { DEFAULT_MODEL_PRICES, type ModelPrice } from '../../src/pricing/price-table.js';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

interface CallRow {
  endpoint: string;
  service: string;
  status_code: number;
  cost_estimate: string | null;
  user_id: string | null;
  metadata: Record<string, unknown>;
}

/** The row of the price table in force now (the stubs answer with undated models). */
function price(model: string, at = new Date()): ModelPrice {
  const day = at.toISOString().slice(0, 10);
  return DEFAULT_MODEL_PRICES.filter((row) => row.model === model && (row.effectiveFrom ?? '') <= day).at(
    -1,
  )!;
}

/** USD for the stubs' Gemini counts at `model`'s prices, by hand. */
function geminiCost(model: string): number {
  const p = price(model);
  const g = STUB_USAGE.gemini;
  return (
    ((g.prompt - g.cached) * p.inputPerMillion +
      g.cached * p.cachedInputPerMillion! +
      (g.candidates + g.thoughts) * p.outputPerMillion) /
    1e6
  );
}

function openAiCost(model: string): number {
  const p = price(model);
  const o = STUB_USAGE.openai;
  return (
    ((o.prompt - o.cached) * p.inputPerMillion +
      o.cached * p.cachedInputPerMillion! +
      o.completion * p.outputPerMillion) /
    1e6
  );
}

function anthropicCost(model: string): number {
  const p = price(model);
  const a = STUB_USAGE.anthropic;
  return (
    (a.input * p.inputPerMillion +
      a.cacheRead * p.cachedInputPerMillion! +
      a.cacheWrite5m * p.cacheWritePerMillion! +
      a.cacheWrite1h * p.cacheWrite1hPerMillion! +
      a.output * p.outputPerMillion) /
    1e6
  );
}

describe('token usage and cost read from LLM responses, in every shape, through fetch and node:http', () => {
  let db: TestDatabase;
  let stub: Awaited<ReturnType<typeof startStubApis>>;
  let dir: string;
  let rows: CallRow[];

  beforeAll(async () => {
    db = await createTestDatabase('llm_usage', { writer: true });
    stub = await startStubApis();
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-llm-'));
    const config = path.join(dir, 'analytics.json');
    writeFileSync(config, JSON.stringify({ services: stubServices(stub.port) }));
    const app = await startApp('test/fixtures/llm-calls.mjs', {
      waitForListening: false,
      env: { OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, OTEL_ANALYTICS_CONFIG: config, STUB_URL: stub.url },
    });
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.stderr()).toBe('');
    rows = await db.query<CallRow>(
      'select endpoint, service, status_code, cost_estimate::text, user_id, metadata from external_api_call_log order by time',
    );
  });

  afterAll(async () => {
    await stub?.close();
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  const row = (i: number): CallRow => rows[i]!;
  const cost = (i: number): number => Number(row(i).cost_estimate);

  it('records every call, with the service the catalog names', () => {
    expect(rows.map((r) => `${r.service} ${new URL(r.endpoint).pathname}`)).toEqual([
      'gemini /v1beta/models/gemini-2.5-pro:streamGenerateContent',
      'gemini /v1beta/models/gemini-3.8-flash:streamGenerateContent',
      'gemini /v1beta/models/gemini-2.5-flash:countTokens',
      'openai /v1/chat/completions',
      'openai /v1/responses',
      'anthropic /v1/messages',
      'anthropic /v1/messages',
      'anthropic /v1/messages',
      'gemini /v1beta/models/gemini-imaginary-9:generateContent',
      'brightdata /datasets/v3/snapshot/s_abc',
      'brightdata /datasets/v3/snapshot/s_abc',
      'supabase /functions/v1/resize-image',
      'gemini /v1beta/models/gemini-2.5-flash:generateContent',
      'anthropic /v1/messages',
    ]);
  });

  it('reads a Gemini stream sent as a JSON array and as server-sent events (gzip-compressed)', () => {
    expect(cost(0)).toBeCloseTo(geminiCost('gemini-2.5-pro'), 8);
    expect(row(0).metadata).toMatchObject({
      input_tokens: STUB_USAGE.gemini.prompt,
      cached_input_tokens: STUB_USAGE.gemini.cached,
      output_tokens: STUB_USAGE.gemini.candidates + STUB_USAGE.gemini.thoughts,
      reasoning_tokens: STUB_USAGE.gemini.thoughts,
      response_model: 'gemini-2.5-pro',
    });
    expect(cost(1)).toBeCloseTo(geminiCost('gemini-3.8-flash'), 8);
  });

  it('prices countTokens at 0', () => {
    expect(row(2)).toMatchObject({
      cost_estimate: '0.00000000',
      metadata: { free: true, cost_model: 'free' },
    });
  });

  it('reads a streamed OpenAI chat completion and a Responses API answer, priced by the model that answered', () => {
    expect(row(3).metadata).toMatchObject({
      response_model: 'gpt-4o-2024-07-18',
      input_tokens: STUB_USAGE.openai.prompt,
    });
    expect(cost(3)).toBeCloseTo(openAiCost('gpt-4o'), 8);
    expect(cost(4)).toBeCloseTo(openAiCost('gpt-4.1'), 8);
  });

  it('attributes a call made outside any request to the user runAsUser names', () => {
    expect(row(4).user_id).toBe('job-user-7');
    expect(rows.filter((r) => r.user_id !== null)).toHaveLength(1);
  });

  it('reads an Anthropic stream through fetch and through node:http (gzip), with 1-hour cache writes', () => {
    for (const i of [5, 6]) {
      expect(cost(i)).toBeCloseTo(anthropicCost('claude-haiku-4-5'), 8);
      expect(row(i).metadata).toMatchObject({
        cache_write_1h_input_tokens: STUB_USAGE.anthropic.cacheWrite1h,
      });
    }
  });

  it('marks the usage of a stream that broke off as incomplete, with what arrived, through fetch and node:http', () => {
    const a = STUB_USAGE.anthropic;
    for (const i of [7, 13]) {
      expect(row(i).metadata).toMatchObject({
        usage_incomplete: true,
        input_tokens: a.input + a.cacheRead + a.cacheWrite5m + a.cacheWrite1h,
      });
    }
  });

  it('gives an unknown model a null cost and the reason, with its tokens kept for repricing', () => {
    expect(row(8)).toMatchObject({
      cost_estimate: null,
      metadata: {
        cost_unknown_reason: 'unknown_model',
        response_model: 'gemini-imaginary-9',
        input_tokens: STUB_USAGE.gemini.prompt,
      },
    });
  });

  it('prices dataset snapshots by the records they delivered, as JSON and as NDJSON', () => {
    for (const i of [9, 10]) {
      expect(row(i)).toMatchObject({ metadata: { records: STUB_RECORDS, cost_model: 'per_record' } });
      expect(cost(i)).toBeCloseTo(STUB_RECORDS * 0.0015, 8);
    }
  });

  it('records which Supabase service (and edge function) a call used', () => {
    expect(row(11)).toMatchObject({
      cost_estimate: '0.00000000',
      metadata: {
        supabase_service: 'functions',
        supabase_function: 'resize-image',
        cost_model: 'subscription',
      },
    });
  });

  it('records a response the app never read as incomplete, without inventing usage', () => {
    expect(row(12)).toMatchObject({
      cost_estimate: null,
      metadata: {
        incomplete: true,
        usage_unknown_reason: 'response_not_finished',
        cost_unknown_reason: 'response_not_finished',
      },
    });
  });

  it('keeps the provider key out of the stored endpoints', () => {
    expect(JSON.stringify(rows)).not.toMatch(/key=k\d/);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../admin/migrate.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { reprice } from '../../admin/reprice.js';
import { DEFAULT_MODEL_PRICES } from '../../src/pricing/price-table.js';
import { externalSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
// Sub-millisecond start times: rows keep microseconds, a JS Date does not.
const NOVEMBER: HrTime = [Date.parse('2026-11-10T12:00:00Z') / 1000, 123_456_789];
const OCTOBER: HrTime = [Date.parse('2026-10-10T12:00:00Z') / 1000, 0];

function llmCall(model: string, cost: number | undefined): Attributes {
  return {
    'service.peer.name': 'openai',
    'gen_ai.provider.name': 'openai',
    'gen_ai.response.model': model,
    'gen_ai.usage.input_tokens': 1_000_000,
    'gen_ai.usage.output_tokens': 100_000,
    'analytics.cost.usd': cost,
    ...(cost === undefined && { 'analytics.cost.unknown_reason': 'unknown_model' }),
    ...(cost !== undefined && { 'analytics.cost.model': 'per_token', 'analytics.price.source': 'old-table' }),
  };
}

describe('reprice', () => {
  let db: TestDatabase;
  const gpt4o = DEFAULT_MODEL_PRICES.find((row) => row.model === 'gpt-4o')!;
  const gpt4oCost = gpt4o.inputPerMillion + 0.1 * gpt4o.outputPerMillion;

  beforeAll(async () => {
    db = await createTestDatabase('reprice');
    const exporter = new PostgresSpanExporter({ connectionString: db.url });
    const spans = [
      // Priced right, priced wrong (an old table), unknown model, and one before the range.
      { model: 'gpt-4o-2024-08-06', start: NOVEMBER, cost: gpt4oCost },
      { model: 'gpt-4o-2024-08-06', start: NOVEMBER, cost: 1 },
      { model: 'acme-llm-1', start: NOVEMBER, cost: undefined },
      { model: 'gpt-4o', start: OCTOBER, cost: 1 },
    ].map(({ model, start, cost }) => externalSpan(llmCall(model, cost), { startTime: start }));
    await new Promise((resolve) => exporter.export(spans, resolve));
    await exporter.shutdown();
  });

  afterAll(async () => {
    await db?.drop();
  });

  const costs = async () =>
    (
      await db.query<{ c: string | null }>(
        'select cost_estimate::text as c from external_api_call_log order by time, id',
      )
    ).map((r) => r.c);

  it('reports what would change without changing anything (dry run)', async () => {
    const before = await costs();
    const summary = await reprice(db.url, { since: new Date('2026-11-01') });
    expect(summary).toMatchObject({ rows: 3, changed: 1, unknownBefore: 1, unknownAfter: 1, applied: false });
    expect(summary.totalBefore).toBeCloseTo(gpt4oCost + 1, 8);
    expect(summary.totalAfter).toBeCloseTo(2 * gpt4oCost, 8);
    expect(summary.unknownModels).toEqual({ 'acme-llm-1': 1 });
    expect(await costs()).toEqual(before);
  });

  it('applies a price added later, at the rate in force when each call was made, leaving older calls alone', async () => {
    const summary = await reprice(db.url, {
      since: new Date('2026-11-01'),
      apply: true,
      modelPrices: [{ model: 'acme-llm-1', inputPerMillion: 2, outputPerMillion: 10, source: 'contract' }],
    });
    expect(summary).toMatchObject({ rows: 3, changed: 2, unknownAfter: 0, applied: true });
    const rows = await db.query<{ c: string; metadata: Record<string, unknown> }>(
      'select cost_estimate::text as c, metadata from external_api_call_log order by time, id',
    );
    expect(rows.map((r) => Number(r.c))).toEqual([1, gpt4oCost, gpt4oCost, 3]);
    expect(rows[3]!.metadata).toMatchObject({
      price_source: 'contract',
      cost_model: 'per_token',
      cost_source: 'local',
      repriced_at: expect.any(String),
    });
    expect(rows[3]!.metadata).not.toHaveProperty('cost_unknown_reason');
    // The wrongly priced call's old verdict is gone, not left beside the new one.
    expect(rows[2]!.metadata).toMatchObject({ repriced_at: expect.any(String), cost_model: 'per_token' });
    expect(rows[2]!.metadata.price_source).not.toBe('old-table');
    expect(rows[1]!.metadata).not.toHaveProperty('repriced_at');
    // The hourly rollup (the 30-day cost panels) follows the new prices.
    const [rolled] = await db.query<{ rolled: string; raw: string }>(`
      select (select sum(cost_usd)::text from analytics_external_hourly) as rolled,
             (select sum(cost_estimate)::text from external_api_call_log) as raw`);
    expect(Number(rolled!.rolled)).toBeCloseTo(1 + 2 * gpt4oCost + 3, 8);
    expect(rolled!.rolled).toBe(rolled!.raw);
  });

  it('runs from the CLI, with prices from the config file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-reprice-'));
    try {
      const config = path.join(dir, 'analytics.json');
      writeFileSync(
        config,
        JSON.stringify({ modelPrices: [{ model: 'acme-llm-1', inputPerMillion: 4, outputPerMillion: 10 }] }),
      );
      const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');
      const { stdout } = await run(
        process.execPath,
        [cli, 'reprice', '--since', '2026-11-01', '--database-url', db.url],
        {
          env: { ...process.env, OTEL_ANALYTICS_CONFIG: config },
        },
      );
      expect(stdout).toContain('calls with token usage: 3');
      expect(stdout).toContain('calls whose cost changes: 1');
      expect(stdout).toContain('dry run: nothing changed');
      const missing = await run(process.execPath, [cli, 'reprice', '--database-url', db.url]).catch(
        (e: unknown) => e,
      );
      expect((missing as { code: number }).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { packageRoot } from '../../admin/migrate.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { StatsRecorder } from '../../exporter/stats-recorder.js';
import { createKysely } from '../../database/create-kysely.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { apiSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

describe('pipeline stats rows', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('pipeline_stats');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records the counters periodically, and a final row at shutdown', async () => {
    const exporter = new PostgresSpanExporter({
      connectionString: db.url,
      statsIntervalMillis: 100,
      serviceName: 'stats-test',
    });
    await exportSpans(exporter, [apiSpan(), apiSpan(), apiSpan()]);
    await exporter.forceFlush();
    await vi.waitFor(
      async () => {
        const rows = await db.query(
          'select exported_rows from analytics_pipeline_stats where exported_rows = 3',
        );
        expect(rows.length).toBeGreaterThan(0);
      },
      { timeout: 5000, interval: 50 },
    );
    await exporter.shutdown();
    const rows = await db.query<{
      final: boolean;
      service_name: string;
      instance_id: string;
      pid: number;
      exported_rows: string;
      dropped_rows: object;
      rejected_rows: object;
    }>('select * from analytics_pipeline_stats order by time, id');
    const last = rows.at(-1)!;
    expect(last).toMatchObject({
      final: true,
      service_name: 'stats-test',
      pid: process.pid,
      exported_rows: '3',
      dropped_rows: {},
      rejected_rows: {},
    });
    expect(rows.filter((r) => r.final)).toHaveLength(1);
    expect(new Set(rows.map((r) => r.instance_id)).size).toBe(1);
  });

  it('says once that a version-1 database has no stats table, and writes the log rows all the same', async () => {
    const old = await createTestDatabase('pipeline_stats_v1', { schema: false });
    const { warnings, stop } = captureDiagWarnings({ includeInfo: true });
    try {
      const client = new pg.Client({ connectionString: old.url });
      await client.connect();
      await client.query(readFileSync(path.join(packageRoot(), 'test/fixtures/schema-v1.sql'), 'utf8'));
      await client.end();
      const exporter = new PostgresSpanExporter({ connectionString: old.url, statsIntervalMillis: 20 });
      await exportSpans(exporter, [apiSpan()]);
      await exporter.forceFlush();
      await vi.waitFor(() =>
        expect(warnings.some((w) => w.includes('analytics_pipeline_stats does not exist'))).toBe(true),
      );
      await exporter.shutdown();
      const [row] = await old.query<{ n: number }>('select count(*)::int as n from api_access_log');
      expect(row!.n).toBe(1);
      expect(exporter.getStats().droppedRows).toEqual({});
      expect(warnings.filter((w) => w.includes('analytics_pipeline_stats does not exist'))).toHaveLength(1);
    } finally {
      stop();
      await old.drop();
    }
  });

  it('says it once when two writes find the table missing at the same time (the timer and shutdown)', async () => {
    const old = await createTestDatabase('pipeline_stats_overlap', { schema: false });
    const { warnings, stop } = captureDiagWarnings({ includeInfo: true });
    const pool = new pg.Pool({ connectionString: old.url, max: 2 });
    try {
      await pool.query(readFileSync(path.join(packageRoot(), 'test/fixtures/schema-v1.sql'), 'utf8'));
      const db = createKysely({ pool });
      const recorder = new StatsRecorder(
        { statsIntervalMillis: 0, serviceName: 'overlap' },
        {
          database: () => db as unknown as Kysely<unknown>,
          stats: () => ({
            queuedRows: 0,
            spoolBytes: 0,
            exportedRows: 1,
            retries: 0,
            spooledRows: 0,
            replayedRows: 0,
            droppedRows: {},
            rejectedRows: {},
          }),
          logger: diag,
        },
      );
      await Promise.all([recorder.record(), recorder.record(true)]);
      await recorder.record(true);
      expect(warnings.filter((w) => w.includes('analytics_pipeline_stats does not exist'))).toHaveLength(1);
    } finally {
      stop();
      await pool.end();
      await old.drop();
    }
  });
});

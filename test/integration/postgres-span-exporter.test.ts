import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { spanToRow } from '../../exporter/span-to-row.js';
import { writeBatch } from '../../exporter/writer/write-batch.js';
import { Redactor } from '../../src/privacy/redactor.js';
import type { ExportResultLike, ReadableSpanLike } from '../../src/span-types.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { unusedPort } from '../helpers/ports.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;
let exporters: PostgresSpanExporter[] = [];
let warnings: string[] = [];
let stopCapture: () => void = () => {};

function newExporter(
  options: ConstructorParameters<typeof PostgresSpanExporter>[0] = {},
): PostgresSpanExporter {
  const exporter = new PostgresSpanExporter({ connectionString: db.url, ...options });
  exporters.push(exporter);
  return exporter;
}

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<ExportResultLike> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

async function count(table: string): Promise<number> {
  const rows = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]!.n;
}

beforeAll(async () => {
  db = await createTestDatabase('exporter');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  ({ warnings, stop: stopCapture } = captureDiagWarnings());
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
});

afterEach(async () => {
  await Promise.all(exporters.map((e) => e.shutdown()));
  exporters = [];
  stopCapture();
});

describe('PostgresSpanExporter', () => {
  it('writes one row per span into the table its kind belongs to', async () => {
    const exporter = newExporter();
    const api = apiSpan({
      'url.query': 'q=shoes&api_key=abc',
      'http.route': '/api/items/:id',
      'enduser.id': 'u1',
    });
    const auth = authSpan({ 'analytics.auth.event_type': 'login_failed', 'analytics.auth.success': false });
    const external = externalSpan();

    const result = await exportSpans(exporter, [api, auth, external]);
    await exporter.forceFlush();

    expect(result.code).toBe(0);
    const [apiRow] = await db.query('select * from api_access_log');
    expect(apiRow).toMatchObject({
      span_id: api.spanContext().spanId,
      trace_id: api.spanContext().traceId,
      service_name: 'test-service',
      endpoint: '/api/items/:id',
      path: '/api/items/42',
      method: 'GET',
      status_code: 200,
      ip_address: '127.0.0.1',
      peer_address: '127.0.0.1',
      user_agent: 'test/1.0',
      user_id: 'u1',
      query_params: { q: 'shoes', api_key: 'REDACTED' },
      sample_weight: 1,
    });
    expect(apiRow!.response_time_ms).toBeCloseTo(12.5, 5);
    const [authRow] = await db.query('select * from authentication_log');
    expect(authRow).toMatchObject({
      event_type: 'login_failed',
      success: false,
      user_id: 'user-1',
      ip_address: '203.0.113.9',
    });
    const [callRow] = await db.query('select * from external_api_call_log');
    expect(callRow).toMatchObject({
      service: 'brightdata',
      endpoint: 'https://api.brightdata.com/request',
      cost_estimate: '0.00150000',
    });
  });

  it('stores the start time with microseconds', async () => {
    const exporter = newExporter();
    await exportSpans(exporter, [apiSpan({}, { startTime: [1_780_000_000, 123_456_789] })]);
    await exporter.forceFlush();
    const [row] = await db.query<{ t: string }>(
      `select to_char(time at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') as t from api_access_log`,
    );
    expect(row!.t).toBe('2026-05-28 20:26:40.123456');
  });

  it('does not duplicate rows when the same batch is exported again', async () => {
    const exporter = newExporter();
    const spans = [apiSpan(), apiSpan(), authSpan(), externalSpan()];
    await exportSpans(exporter, spans);
    await exportSpans(exporter, spans);
    await exporter.forceFlush();
    // Written already (a retry after a lost acknowledgement): the COPY fails on the duplicate
    // keys, and the batch goes again as INSERT ... ON CONFLICT DO NOTHING.
    await exportSpans(exporter, spans);
    await exporter.forceFlush();
    expect(await count('api_access_log')).toBe(2);
    expect(await count('authentication_log')).toBe(1);
    expect(await count('external_api_call_log')).toBe(1);
    expect(exporter.getStats()).toEqual(
      expect.objectContaining({ droppedRows: {}, rejectedRows: {}, exportedRows: 12 }),
    );
  });

  it('writeBatch returns the rows it inserted, not the rows it was given', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      const rowsOf = (spans: ReadableSpanLike[]) => spans.map((span) => spanToRow(span, new Redactor())!.row);
      const old = [externalSpan(), externalSpan(), externalSpan()];
      expect(await writeBatch(kysely, 'external_api_call_log', rowsOf(old))).toBe(3);
      expect(await writeBatch(kysely, 'external_api_call_log', rowsOf(old))).toBe(0);
      expect(await writeBatch(kysely, 'external_api_call_log', rowsOf([...old, externalSpan()]))).toBe(1);
      const twice = externalSpan();
      expect(await writeBatch(kysely, 'external_api_call_log', rowsOf([twice, twice]))).toBe(1);
      expect(await count('external_api_call_log')).toBe(5);
    } finally {
      await kysely.destroy();
    }
  });

  it('writes a batch of more rows than the 65,535 bind-parameter limit would allow as VALUES', async () => {
    const exporter = newExporter({ maxBatchRows: 8000 });
    const spans = Array.from({ length: 6000 }, () => apiSpan());
    await exportSpans(exporter, spans);
    await exporter.forceFlush();
    expect(await count('api_access_log')).toBe(6000);
    expect(exporter.getStats().droppedRows).toEqual({});
  });

  it('isolates a row PostgreSQL rejects and writes the rest of its batch', async () => {
    await db.query(`alter table api_access_log add constraint reject_evil check (path <> '/evil')`);
    try {
      const exporter = newExporter();
      const spans = Array.from({ length: 999 }, () => apiSpan());
      spans.splice(500, 0, apiSpan({ 'url.path': '/evil' }));
      await exportSpans(exporter, spans);
      await exporter.forceFlush();
      expect(await count('api_access_log')).toBe(999);
      expect(exporter.getStats().rejectedRows).toEqual({ check_violation: 1 });
      expect(exporter.getStats().droppedRows).toEqual({});
      expect(exporter.getStats().retries).toBe(0);
    } finally {
      await db.query('alter table api_access_log drop constraint reject_evil');
    }
  });

  it('stores hostile values safely instead of failing the batch', async () => {
    const exporter = newExporter();
    const hostile = apiSpan({
      'url.path': `/a\u0000b/${'x'.repeat(10_000)}`,
      'user_agent.original': 'evil\u0000\ud800agent',
      'url.query': 'q=%00&x=\u0000',
      'network.peer.address': '999.1.1.1',
      'analytics.client.address': 'not an ip',
    });
    await exportSpans(exporter, [apiSpan(), hostile, apiSpan()]);
    await exporter.forceFlush();
    expect(await count('api_access_log')).toBe(3);
    const [row] = await db.query(`select * from api_access_log where span_id = $1`, [
      hostile.spanContext().spanId,
    ]);
    expect(row!.path).toMatch(/^\/ab\/x+…$/);
    expect(Buffer.byteLength(row!.path as string)).toBeLessThanOrEqual(2048);
    expect(row!.user_agent).toBe('evil\ufffdagent');
    expect(row!.ip_address).toBeNull();
    expect(row!.metadata).toMatchObject({
      invalid_ip_address: 'not an ip',
      invalid_peer_address: '999.1.1.1',
    });
  });

  it('drops rows with a clear reason when the schema is missing, without throwing', async () => {
    const bare = await createTestDatabase('exporter_bare', { schema: false });
    try {
      const exporter = new PostgresSpanExporter({ connectionString: bare.url });
      exporters.push(exporter);
      const result = await exportSpans(exporter, [apiSpan(), authSpan()]);
      await exporter.forceFlush();
      expect(result.code).toBe(0);
      expect(exporter.getStats().droppedRows).toEqual({ schema_missing: 2 });
      expect(warnings.some((w) => w.includes('otel-pg-analytics migrate'))).toBe(true);
      await exporter.shutdown();
    } finally {
      await bare.drop();
    }
  });

  it('retries while the database is unreachable, then counts the rows it gives up on', async () => {
    const port = await unusedPort();
    const exporter = new PostgresSpanExporter({
      connectionString: `postgres://postgres@127.0.0.1:${port}/none`,
      retryDeadlineMillis: 400,
      initialRetryDelayMillis: 20,
    });
    exporters.push(exporter);
    const result = await exportSpans(exporter, [apiSpan(), apiSpan()]);
    expect(result.code).toBe(0);
    await exporter.forceFlush();
    const stats = exporter.getStats();
    expect(stats.droppedRows).toEqual({ database_unavailable: 2 });
    expect(stats.retries).toBeGreaterThan(0);
    expect(warnings.filter((w) => w.includes('cannot write to Postgres'))).toHaveLength(1);
  });

  it('drops new rows and counts them when its queue is full', async () => {
    const port = await unusedPort();
    const exporter = new PostgresSpanExporter({
      connectionString: `postgres://postgres@127.0.0.1:${port}/none`,
      maxQueueRows: 10,
      maxBatchRows: 10,
      retryDeadlineMillis: 200,
      initialRetryDelayMillis: 20,
    });
    exporters.push(exporter);
    await exportSpans(
      exporter,
      Array.from({ length: 25 }, () => apiSpan()),
    );
    expect(exporter.getStats().droppedRows.queue_full).toBe(15);
    await exporter.forceFlush();
    expect(exporter.getStats().droppedRows).toEqual({ queue_full: 15, database_unavailable: 10 });
  });

  it('survives its connection being terminated and writes the next batch', async () => {
    const exporter = newExporter();
    await exportSpans(exporter, [apiSpan()]);
    await exporter.forceFlush();
    await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'otel-pg-analytics' and datname = current_database()`,
    );
    await exportSpans(exporter, [apiSpan(), apiSpan()]);
    await exporter.forceFlush();
    expect(await count('api_access_log')).toBe(3);
    expect(Object.keys(exporter.getStats().droppedRows)).toHaveLength(0);
  });

  it('writes every row of concurrent exports exactly once', async () => {
    const exporter = newExporter({ maxBatchRows: 7 });
    const batches = Array.from({ length: 6 }, () => Array.from({ length: 20 }, () => apiSpan()));
    await Promise.all(batches.map((batch) => exportSpans(exporter, batch)));
    await Promise.all([exporter.forceFlush(), exporter.forceFlush()]);
    const [row] = await db.query<{ n: number; distinct_spans: number }>(
      'select count(*)::int as n, count(distinct span_id)::int as distinct_spans from api_access_log',
    );
    expect(row).toEqual({ n: 120, distinct_spans: 120 });
  });

  it('writes what was exported before shutdown, then refuses new exports', async () => {
    const exporter = newExporter();
    await exportSpans(exporter, [apiSpan(), apiSpan(), apiSpan()]);
    await exporter.shutdown();
    expect(await count('api_access_log')).toBe(3);
    const after = await exportSpans(exporter, [apiSpan()]);
    expect(after.code).toBe(1);
    expect(after.error?.message).toMatch(/shut down/);
  });

  it('writes with tracing suppressed, so it never traces its own queries', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const suppressed: boolean[] = [];
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      const connect = pool.connect.bind(pool);
      (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
        suppressed.push(isTracingSuppressed(context.active()));
        return connect();
      };
      const exporter = newExporter({ connectionString: undefined, pool });
      await exportSpans(exporter, [apiSpan()]);
      await exporter.forceFlush();
      await pool.end();
      expect(suppressed.length).toBeGreaterThan(0);
      expect(suppressed.every(Boolean)).toBe(true);
    } finally {
      context.disable();
    }
  });

  it('rejects invalid options in code with an error naming the value', () => {
    expect(() => new PostgresSpanExporter({ connectionString: 'mysql://u:secret@h/db' })).toThrow(
      /connectionString.*mysql:\/\/u:\*\*\*@h\/db/,
    );
    expect(() => new PostgresSpanExporter({ connectionString: db.url, maxBatchRows: 0 })).toThrow(
      /maxBatchRows: 0/,
    );
    expect(() => new PostgresSpanExporter({})).toThrow(/connectionString or a pool/);
  });

  it('validates the privacy options as the package configuration does (a key of at least 16 bytes)', () => {
    const url = db.url;
    expect(() => new PostgresSpanExporter({ connectionString: url, hmacKey: 'short-key' })).toThrow(
      /Invalid hmacKey: \(hidden\) \(expected a secret of at least 16 bytes\)/,
    );
    expect(() => new PostgresSpanExporter({ connectionString: url, hmacKey: 'short-key' })).not.toThrow(
      /short-key/,
    );
    expect(() => new PostgresSpanExporter({ connectionString: url, userIdMode: 'HMAC' as 'hmac' })).toThrow(
      /Invalid userIdMode: "HMAC" \(expected 'plain', 'hmac' or 'none'\)/,
    );
    expect(() => new PostgresSpanExporter({ connectionString: url, redactKeys: [' '] })).toThrow(
      /Invalid redactKeys: \[" "\] \(expected an array of names\)/,
    );
  });
});

describe('PostgresSpanExporter flushing and rejection limits', () => {
  it('forceFlush waits for the rows queued before it, not for rows exported after it', async () => {
    const exporter = newExporter();
    const lock = new pg.Client({ connectionString: db.url });
    await lock.connect();
    try {
      await lock.query('begin');
      await lock.query('lock table authentication_log in access exclusive mode');
      await exportSpans(exporter, [apiSpan(), apiSpan()]);
      const flushed = exporter.forceFlush();
      // Queued after the flush began, and stuck behind the lock.
      await exportSpans(exporter, [authSpan()]);
      // Resolves while the lock still holds the later row back (it would time out otherwise).
      await flushed;
      expect(await count('api_access_log')).toBe(2);
    } finally {
      await lock.query('rollback');
      await lock.end();
    }
    await exporter.forceFlush();
    expect(await count('authentication_log')).toBe(1);
  });

  it('gives up on a batch in which every row is rejected after a bounded number of statements', async () => {
    await db.query(`alter table api_access_log add constraint reject_all check (path = '/never')`);
    try {
      let statements = 0;
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      const connect = pool.connect.bind(pool);
      const counted = new WeakSet<object>();
      (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
        const client = await connect();
        // The pool hands out the same client again: count its queries once.
        if (counted.has(client)) return client;
        counted.add(client);
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          statements++;
          return query(...args);
        };
        return client;
      };
      const exporter = newExporter({ connectionString: undefined, pool });
      await exportSpans(
        exporter,
        Array.from({ length: 1000 }, () => apiSpan()),
      );
      await exporter.forceFlush();
      await pool.end();
      expect(exporter.getStats().rejectedRows).toEqual({ check_violation: 1000 });
      // Halving a 1,000-row batch until every row stood alone would take about 2,000 statements.
      expect(statements).toBeGreaterThan(1);
      expect(statements).toBeLessThan(60);
      expect(warnings.filter((w) => w.includes('rejected rows of api_access_log'))).toHaveLength(1);
    } finally {
      await db.query('alter table api_access_log drop constraint reject_all');
    }
  });
});

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../admin/migrate.js';
import { migrateRoles } from '../../admin/migrate-roles.js';
import { rollUp } from '../../admin/roll-up.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { doctor } from '../../doctor/doctor.js';
import type { DoctorCheck } from '../../doctor/doctor-check.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';

// Distributing the log tables and their daily partitions makes about a thousand shards.
const MIGRATE_TIMEOUT_MILLIS = 120_000;

function only(report: DoctorCheck[], name: DoctorCheck['check']): DoctorCheck {
  const found = report.filter((check) => check.check === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

/** `url` with another port (a worker's) or another user. */
function urlWith(url: string, change: { port?: string; username?: string; password?: string }): string {
  const next = new URL(url);
  Object.assign(next, change);
  return next.toString();
}

describeCitus('doctor on the distributed layout (Citus)', () => {
  let citus: CitusSchema;
  const minutesAgo = (minutes: number): [number, number] => [Math.floor(Date.now() / 1000) - minutes * 60, 0];

  beforeAll(async () => {
    citus = await createCitusSchema('doctor');
    expect((await migrate(citus.url)).layout).toBe('distributed');
  }, MIGRATE_TIMEOUT_MILLIS);

  afterAll(async () => {
    await citus?.drop();
  });

  it('passes a migrated schema, says it is distributed by trace_id on both workers and that no row waits for the rollup', async () => {
    const report = await doctor(citus.url);
    expect(report.map((c) => [c.check, c.status])).toEqual([
      ['connection', 'ok'],
      ['schema-version', 'ok'],
      ['tables', 'ok'],
      ['layout', 'ok'],
      ['rollups', 'ok'],
      ['privileges', 'ok'],
      ['role', 'warn'],
      ['pipeline', 'ok'],
    ]);
    expect(only(report, 'layout').message).toMatch(
      /^distributed on a Citus coordinator: api_access_log, authentication_log, external_api_call_log hash-distributed by trace_id and co-located, \d+ shards each, on 2 nodes \(127\.0\.0\.1:5441, 127\.0\.0\.1:5442\)$/,
    );
    expect(only(report, 'rollups').message).toBe('kept by analytics_roll_up(): no row waits for it');
  });

  it('counts the rows waiting for the rollup, warns when one is old, and is content once it ran', async () => {
    const exporter = new PostgresSpanExporter({ connectionString: citus.url, statsIntervalMillis: 0 });
    try {
      await exportSpans(exporter, [
        apiSpan({}, { startTime: minutesAgo(2) }),
        apiSpan({}, { startTime: minutesAgo(3) }),
        externalSpan({}, { startTime: minutesAgo(4) }),
      ]);
      await exporter.forceFlush();
      expect(only(await doctor(citus.url), 'rollups')).toEqual({
        check: 'rollups',
        status: 'ok',
        message:
          'kept by analytics_roll_up(): 3 rows wait for it (api_access_log 2, external_api_call_log 1), the oldest from 4 min ago',
      });

      // A row of two hours ago not rolled up yet: the long-range panels miss it.
      await exportSpans(exporter, [authSpan({}, { startTime: minutesAgo(120) })]);
      await exporter.forceFlush();
      const stale = only(await doctor(citus.url), 'rollups');
      expect(stale).toMatchObject({
        status: 'warn',
        message: expect.stringContaining(
          '4 rows wait for it (api_access_log 2, authentication_log 1, external_api_call_log 1), the oldest from 2 h ago: it has not run for a while',
        ),
        fix: expect.stringContaining('otel-pg-analytics partitions'),
      });

      expect(await rollUp(citus.url)).toEqual([
        { table: 'api_access_log', rows: 2 },
        { table: 'authentication_log', rows: 1 },
        { table: 'external_api_call_log', rows: 1 },
      ]);
      expect(only(await doctor(citus.url), 'rollups')).toMatchObject({
        status: 'ok',
        message: 'kept by analytics_roll_up(): no row waits for it',
      });
    } finally {
      await exporter.shutdown();
    }
  });

  it('as the INSERT-only writer: no failure, and the reader is asked for to read the watermarks', async () => {
    const suffix = randomBytes(4).toString('hex');
    const writer = `pga_doctor_w_${suffix}`;
    const reader = `pga_doctor_r_${suffix}`;
    const password = randomBytes(9).toString('base64url');
    await migrateRoles(citus.url, {
      writerRole: writer,
      readerRole: reader,
      writerPassword: password,
      readerPassword: password,
    });
    try {
      const asWriter = await doctor(urlWith(citus.url, { username: writer, password }));
      // The writer may read neither the schema version nor the watermarks: warnings, as on one PostgreSQL.
      expect(asWriter.map((c) => [c.check, c.status])).toEqual([
        ['connection', 'ok'],
        ['schema-version', 'warn'],
        ['tables', 'ok'],
        ['layout', 'ok'],
        ['rollups', 'warn'],
        ['privileges', 'ok'],
        ['role', 'ok'],
        ['pipeline', 'warn'],
      ]);
      expect(only(asWriter, 'layout').message).toMatch(/^distributed on a Citus coordinator/);
      expect(only(asWriter, 'rollups').message).toBe(
        `cannot read the rollup watermarks as ${writer}: run doctor with the reader role`,
      );
      const asReader = await doctor(urlWith(citus.url, { username: reader, password }));
      expect(only(asReader, 'layout').status).toBe('ok');
      expect(only(asReader, 'rollups')).toMatchObject({ status: 'ok' });
    } finally {
      // Roles are cluster-wide (Citus propagates them to the workers): dropped on every node.
      for (const role of [writer, reader]) {
        await citus.query(`drop owned by ${role}`);
        await citus.query(`drop role ${role}`);
      }
    }
  });

  it('warns about rows written through a worker, whose ids the rollups never reach, and about a connection to a worker', async () => {
    const worker = new pg.Client({ connectionString: urlWith(citus.url, { port: '5441' }) });
    await worker.connect();
    try {
      const { rows } = await worker.query<{ id: string }>(
        `insert into api_access_log (time, trace_id, span_id, service_name, status_code)
         values (now(), md5('through a worker'), 'through-a-worker', 'doctor', 200) returning id::text`,
      );
      expect(BigInt(rows[0]!.id) >= 2n ** 48n).toBe(true);
    } finally {
      await worker.end();
    }
    const report = await doctor(citus.url);
    expect(report.filter((c) => c.check === 'layout')).toEqual([
      expect.objectContaining({ status: 'ok' }),
      {
        check: 'layout',
        status: 'warn',
        message:
          "api_access_log has rows written through a worker (ids from 281474976710656, a worker's range): the hourly rollups never count them",
        fix: 'write through the coordinator only (apps, ingest); the long-range panels miss those rows',
      },
    ]);
    // analytics_roll_up() leaves it out, and doctor does not count it as waiting.
    expect(only(report, 'rollups').message).toBe('kept by analytics_roll_up(): no row waits for it');

    const onWorker = await doctor(urlWith(citus.url, { port: '5441' }));
    expect(onWorker.filter((c) => c.check === 'layout')[0]).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/^distributed on a Citus worker/),
      fix: expect.stringContaining('coordinator'),
    });
    expect(onWorker.filter((c) => c.check === 'rollups')).toEqual([]);
  });
});

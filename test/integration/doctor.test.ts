import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { doctor } from '../../doctor/doctor.js';
import type { DoctorCheck } from '../../doctor/doctor-check.js';
import { packageRoot, SCHEMA_VERSION } from '../../admin/migrate.js';
import { rollUp } from '../../admin/roll-up.js';
import { useIncrementalRollups } from '../helpers/incremental-rollups.js';
import { unusedPort } from '../helpers/ports.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');

function byName(report: DoctorCheck[], name: DoctorCheck['check']): DoctorCheck[] {
  return report.filter((check) => check.check === name);
}

function only(report: DoctorCheck[], name: DoctorCheck['check']): DoctorCheck {
  const found = byName(report, name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** A connection string for `role` on the same server and database. */
function urlAs(databaseUrl: string, role: string, password: string): string {
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

describe('doctor', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('doctor');
  });

  afterAll(async () => {
    await db?.drop();
  });

  beforeEach(async () => {
    await db.query('truncate analytics_pipeline_stats');
  });

  /** One snapshot of a process, taken `minutesAgo` before now. */
  async function snapshot(
    instanceId: string,
    minutesAgo: number,
    values: {
      startedMinutesAgo?: number;
      final?: boolean;
      dropped?: Record<string, number>;
      rejected?: Record<string, number>;
      spoolBytes?: number;
      lastError?: string;
    } = {},
  ): Promise<void> {
    await db.query(
      `insert into analytics_pipeline_stats
         (time, service_name, instance_id, host, pid, started_at, final, exported_rows, spool_bytes,
          dropped_rows, rejected_rows, last_error)
       values (now() - $2::float8 * interval '1 minute', 'shop', $1, 'web-1', 4242,
               now() - $3::float8 * interval '1 minute', $4, 100, $5, $6, $7, $8)`,
      [
        instanceId,
        minutesAgo,
        values.startedMinutesAgo ?? 120,
        values.final ?? false,
        values.spoolBytes ?? 0,
        JSON.stringify(values.dropped ?? {}),
        JSON.stringify(values.rejected ?? {}),
        values.lastError ?? null,
      ],
    );
  }

  it('finds a freshly migrated database healthy, says no pipeline has reported yet, and warns about the superuser', async () => {
    const report = await doctor(db.url);
    expect(report.map((c) => [c.check, c.status])).toEqual([
      ['connection', 'ok'],
      ['schema-version', 'ok'],
      ['tables', 'ok'],
      ['layout', 'ok'],
      ['privileges', 'ok'],
      ['role', 'warn'],
      ['pipeline', 'ok'],
    ]);
    expect(only(report, 'role').message).toMatch(/^connected as superuser \w+: use the INSERT-only role/);
    expect(only(report, 'connection').message).toMatch(/PostgreSQL \d+.*round trip [\d.]+ ms/);
    expect(only(report, 'schema-version').message).toContain(`schema version ${SCHEMA_VERSION}`);
    expect(only(report, 'tables').message).toContain('analytics_pipeline_stats');
    expect(only(report, 'layout').message).toBe(
      'single PostgreSQL: the log tables are local, their hourly rollups kept by triggers',
    );
    expect(only(report, 'pipeline').message).toContain('no pipeline has reported yet');
  });

  it('says where analytics_roll_up() keeps the rollups instead of triggers, and how many rows wait for it', async () => {
    const incremental = await createTestDatabase('doctor_incremental');
    try {
      await useIncrementalRollups(incremental);
      await incremental.query(
        `insert into api_access_log (time, trace_id, span_id, status_code)
         values (now() - interval '5 minutes', md5('a'), 'a', 200), (now() - interval '3 hours', md5('b'), 'b', 500)`,
      );
      const report = await doctor(incremental.url);
      expect(only(report, 'layout')).toEqual({
        check: 'layout',
        status: 'ok',
        message:
          'single PostgreSQL: the log tables are local, their hourly rollups kept by analytics_roll_up()',
      });
      expect(only(report, 'rollups')).toMatchObject({
        status: 'warn',
        message:
          "kept by analytics_roll_up(): 2 rows wait for it (api_access_log 2), the oldest from 3 h ago: it has not run for a while, and the dashboards' long ranges miss them",
        fix: expect.stringContaining('otel-pg-analytics partitions'),
      });
      await rollUp(incremental.url);
      expect(only(await doctor(incremental.url), 'rollups')).toEqual({
        check: 'rollups',
        status: 'ok',
        message: 'kept by analytics_roll_up(): no row waits for it',
      });
    } finally {
      await incremental.drop();
    }
  });

  it('fails a database without the schema and says to run migrate', async () => {
    const empty = await createTestDatabase('doctor_empty', { schema: false });
    try {
      const report = await doctor(empty.url);
      expect(only(report, 'connection').status).toBe('ok');
      expect(only(report, 'schema-version')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('otel-pg-analytics migrate'),
      });
      expect(only(report, 'tables')).toMatchObject({
        status: 'fail',
        message: expect.stringContaining('missing tables api_access_log'),
        fix: expect.stringContaining('otel-pg-analytics migrate'),
      });
      // Nothing to grant on, nothing to read.
      expect(byName(report, 'privileges')).toEqual([]);
      expect(byName(report, 'pipeline')).toEqual([]);
    } finally {
      await empty.drop();
    }
  });

  it('fails a version 1 database, missing the stats table, with the migrate advice', async () => {
    const old = await createTestDatabase('doctor_v1', { schema: false });
    try {
      await old.query(readFileSync(path.join(packageRoot(), 'test/fixtures/schema-v1.sql'), 'utf8'));
      const report = await doctor(old.url);
      expect(only(report, 'schema-version')).toMatchObject({
        status: 'fail',
        message: `schema version 1; this package needs ${SCHEMA_VERSION}`,
        fix: expect.stringContaining('otel-pg-analytics migrate'),
      });
      expect(only(report, 'tables')).toMatchObject({
        status: 'fail',
        message: 'missing table analytics_pipeline_stats',
      });
      expect(only(report, 'privileges').status).toBe('ok');
    } finally {
      await old.drop();
    }
  });

  it('warns about a schema newer than the package', async () => {
    const newer = await createTestDatabase('doctor_newer');
    try {
      await newer.query(
        `insert into analytics_schema_version (version, description) values (${SCHEMA_VERSION + 1}, 'future')`,
      );
      expect(only(await doctor(newer.url), 'schema-version')).toMatchObject({
        status: 'warn',
        fix: expect.stringContaining('upgrade otel-pg-analytics'),
      });
    } finally {
      await newer.drop();
    }
  });

  it('fails tables changed by hand, naming each difference', async () => {
    const altered = await createTestDatabase('doctor_altered');
    try {
      // The dashboard views depend on these columns: a hand change has to remove them first.
      await altered.query('drop view analytics_api_requests, analytics_external_calls');
      await altered.query('alter table external_api_call_log drop column cost_estimate');
      await altered.query('alter table api_access_log alter column response_size type text');
      await altered.query("alter table authentication_log add column tenant text not null default 'x'");
      await altered.query('alter table authentication_log add column region text not null');
      const report = await doctor(altered.url);
      const tables = only(report, 'tables');
      expect(tables.status).toBe('fail');
      expect(tables.message).toContain('api_access_log: response_size is text, expected bigint');
      expect(tables.message).toContain('external_api_call_log: no column cost_estimate');
      expect(tables.message).toContain(
        'authentication_log: extra column region is NOT NULL without a default, so inserts fail',
      );
      expect(tables.message).not.toContain('tenant');
      expect(tables.fix).toContain('changed by hand');
      // The stats table is intact, so its check still runs.
      expect(only(report, 'pipeline').status).toBe('ok');
    } finally {
      await altered.drop();
    }
  });

  it("fails when the connecting role may not insert into a table, naming the GRANT, and never shows the role's password", async () => {
    const role = `pga_doctor_${randomBytes(4).toString('hex')}`;
    const password = `secret-${randomBytes(6).toString('hex')}`;
    await db.query(`create role ${role} login password '${password}'`);
    try {
      await db.query(`grant insert on api_access_log, authentication_log, external_api_call_log to ${role}`);
      const report = await doctor(urlAs(db.url, role, password));
      expect(only(report, 'connection')).toMatchObject({
        status: 'ok',
        message: expect.stringContaining(`as ${role}`),
      });
      expect(only(report, 'privileges')).toEqual({
        check: 'privileges',
        status: 'fail',
        message: `role ${role} may not insert into analytics_pipeline_stats, which the exporter writes`,
        fix: `as the owner: GRANT INSERT ON analytics_pipeline_stats TO ${role};`,
      });
      // An INSERT-only role cannot read the version or the stats: said, not failed.
      expect(only(report, 'schema-version')).toMatchObject({
        status: 'warn',
        fix: expect.stringContaining(`GRANT SELECT ON analytics_schema_version TO ${role}`),
      });
      expect(only(report, 'tables').status).toBe('ok');
      expect(only(report, 'pipeline')).toMatchObject({
        status: 'warn',
        message: `cannot read pipeline stats as ${role}: run doctor with the reader role`,
      });
      expect(JSON.stringify(report)).not.toContain(password);

      // The GRANT it names is the one that fixes it.
      await db.query(`grant insert on analytics_pipeline_stats to ${role}`);
      expect(only(await doctor(urlAs(db.url, role, password)), 'privileges').status).toBe('ok');
    } finally {
      await db.query(`drop owned by ${role}`);
      await db.query(`drop role ${role}`);
    }
  });

  it('warns about rows dropped within the window, counted from the snapshot before it', async () => {
    await snapshot('web-1/4242/1', 20, { dropped: { queue_full: 2 } });
    await snapshot('web-1/4242/1', 10, { dropped: { queue_full: 5 } });
    await snapshot('web-1/4242/1', 1, {
      dropped: { queue_full: 9, database_unavailable: 1 },
      lastError: 'connect ECONNREFUSED 10.0.0.1:5432',
    });
    // Drops long ago, none since: fine now.
    await snapshot('web-2/7/1', 30, { dropped: { queue_full: 3 } });
    await snapshot('web-2/7/1', 1, { dropped: { queue_full: 3 } });

    const pipeline = byName(await doctor(db.url), 'pipeline');
    expect(pipeline.map((c) => [c.message.split(':')[0], c.status])).toEqual([
      ['web-1/4242/1 (shop)', 'warn'],
      ['web-2/7/1 (shop)', 'ok'],
    ]);
    expect(pipeline[0]!.message).toContain(
      'dropped 8 rows in the last 15 min (queue_full: 7, database_unavailable: 1)',
    );
    expect(pipeline[0]!.message).toContain('last error: connect ECONNREFUSED 10.0.0.1:5432');
  });

  it('counts refused rows of a process that started within the window from zero', async () => {
    await snapshot('web-3/9/1', 2, { startedMinutesAgo: 3, rejected: { rejected_row: 2 } });
    // Started before the window, first seen in it: measured from its first snapshot.
    await snapshot('web-4/9/1', 12, { startedMinutesAgo: 60, rejected: { rejected_row: 5 } });
    await snapshot('web-4/9/1', 2, { startedMinutesAgo: 60, rejected: { rejected_row: 5 } });
    const pipeline = byName(await doctor(db.url), 'pipeline');
    expect(pipeline[0]).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('PostgreSQL refused 2 rows in the last 15 min'),
    });
    expect(pipeline[1]!.status).toBe('ok');
  });

  it('warns about a process that stopped reporting and about spooled bytes, not about one that shut down', async () => {
    await snapshot('gone/1/1', 40);
    await snapshot('done/2/1', 40, { final: true });
    await snapshot('ending/3/1', 3, { final: true });
    await snapshot('spooling/4/1', 1, { spoolBytes: 2048 });
    // Beyond the one-hour look-back: forgotten.
    await snapshot('ancient/5/1', 90);
    const pipeline = byName(await doctor(db.url), 'pipeline');
    expect(pipeline.map((c) => [c.message.split(' ')[0], c.status])).toEqual([
      ['ending/3/1', 'ok'],
      ['gone/1/1', 'warn'],
      ['spooling/4/1', 'warn'],
    ]);
    expect(pipeline[1]!.message).toContain('stopped reporting 40 min ago');
    expect(pipeline[2]!.message).toContain('2.0 KB waiting in its spool');
  });

  it('says when the latest report was, when no process reported within the hour', async () => {
    await snapshot('ancient/5/1', 90);
    expect(only(await doctor(db.url), 'pipeline')).toMatchObject({
      status: 'ok',
      message: expect.stringContaining('no pipeline has reported recently'),
    });
  });

  it('warns about segments waiting in the spool dir, and is fine with none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-doctor-spool-'));
    try {
      mkdirSync(path.join(dir, 'web-1-4242'));
      writeFileSync(path.join(dir, 'web-1-4242', 'lock'), '4242');
      mkdirSync(path.join(dir, 'web-1-4343'));
      writeFileSync(path.join(dir, 'web-1-4343', 'lock'), '4343');
      expect(only(await doctor(db.url, { spoolDir: dir }), 'spool')).toEqual({
        check: 'spool',
        status: 'ok',
        message: `${dir}: nothing pending (2 instance folders)`,
      });

      writeFileSync(path.join(dir, 'web-1-4242', '0000000001.seg'), Buffer.alloc(1000));
      writeFileSync(path.join(dir, 'web-1-4242', '0000000002.seg'), Buffer.alloc(1048));
      writeFileSync(path.join(dir, 'web-1-4242', 'notes.txt'), 'not a segment');
      const spool = only(await doctor(db.url, { spoolDir: dir }), 'spool');
      expect(spool).toMatchObject({
        status: 'warn',
        message: `${dir}: 2 segment files (2.0 KB) pending in 1 of 2 instance folders`,
        fix: expect.stringContaining('replays them'),
      });

      expect(only(await doctor(db.url, { spoolDir: path.join(dir, 'absent') }), 'spool').status).toBe('ok');
      expect(
        only(await doctor(db.url, { spoolDir: path.join(dir, 'web-1-4242', 'lock') }), 'spool'),
      ).toMatchObject({
        status: 'warn',
        message: expect.stringContaining('cannot read the spool'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails a refused connection, says what to do, still checks the spool, and never shows the password', async () => {
    const port = await unusedPort();
    const url = `postgres://app:hunter2-secret@127.0.0.1:${port}/analytics`;
    const report = await doctor(url, { spoolDir: path.join(os.tmpdir(), 'pga-doctor-no-spool') });
    expect(report.map((c) => [c.check, c.status])).toEqual([
      ['connection', 'fail'],
      ['spool', 'ok'],
    ]);
    expect(report[0]!.message).toContain(`postgres://app:***@127.0.0.1:${port}/analytics`);
    expect(report[0]!.message).toContain('connection refused');
    expect(report[0]!.fix).toContain('start PostgreSQL');
    expect(JSON.stringify(report)).not.toContain('hunter2');
  });

  it('fails a connection string pg cannot read, without throwing or showing its password', async () => {
    expect(await doctor('postgres://app:hunter2-secret@db:not-a-port/analytics')).toEqual([
      {
        check: 'connection',
        status: 'fail',
        message:
          'postgres://app:***@db:not-a-port/analytics: not a connection string pg can read (Invalid URL)',
        fix: expect.stringContaining('postgres://user:password@host:port/database'),
      },
    ]);
  });

  it('fails a missing database and a role that does not exist, each with its own advice', async () => {
    const missingDb = new URL(db.url);
    missingDb.pathname = '/pga_doctor_no_such_database';
    expect(only(await doctor(missingDb.toString()), 'connection')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('database "pga_doctor_no_such_database" does not exist'),
      fix: expect.stringContaining('createdb pga_doctor_no_such_database'),
    });
    expect(only(await doctor(urlAs(db.url, 'pga_doctor_nobody', 'x')), 'connection')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('authentication as "pga_doctor_nobody" failed'),
    });
  });

  it('fails a server that never answers, within the connection timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const started = Date.now();
      const report = await doctor(`postgres://app@127.0.0.1:${port}/analytics`, {
        connectionTimeoutMillis: 300,
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(only(report, 'connection')).toMatchObject({
        status: 'fail',
        message: expect.stringContaining('no answer from 127.0.0.1'),
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('otel-pg-analytics doctor (CLI)', () => {
  let db: TestDatabase;
  let empty: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('doctor_cli');
    empty = await createTestDatabase('doctor_cli_empty', { schema: false });
  });

  afterAll(async () => {
    await db?.drop();
    await empty?.drop();
  });

  it('prints one line per check and exits 0 for a healthy database (the superuser is a warning)', async () => {
    const { stdout } = await run(process.execPath, [cli, 'doctor', '--database-url', db.url]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.split(':')[0])).toEqual([
      'ok   connection',
      'ok   schema-version',
      'ok   tables',
      'ok   layout',
      'ok   privileges',
      'warn role',
      'ok   pipeline',
    ]);
  });

  it('exits 1 with the fix when a check fails, reading the URL from the environment', async () => {
    const failure = await run(process.execPath, [cli, 'doctor'], {
      env: { ...process.env, OTEL_ANALYTICS_DATABASE_URL: empty.url },
    }).catch((error: unknown) => error);
    expect((failure as { code: number }).code).toBe(1);
    const stdout = (failure as { stdout: string }).stdout;
    expect(stdout).toMatch(/^fail schema-version: no schema.* — fix: run `otel-pg-analytics migrate`/m);
    expect(stdout).toMatch(/^fail tables: missing tables/m);
  });

  it('reports spooled segments from OTEL_ANALYTICS_SPOOL_DIR as a warning, still exiting 0', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-doctor-cli-spool-'));
    try {
      mkdirSync(path.join(dir, 'web-1-4242'));
      writeFileSync(path.join(dir, 'web-1-4242', '0000000001.seg'), 'x'.repeat(10));
      const { stdout } = await run(process.execPath, [cli, 'doctor', '--database-url', db.url], {
        env: { ...process.env, OTEL_ANALYTICS_SPOOL_DIR: dir },
      });
      expect(stdout).toContain(`warn spool: ${dir}: 1 segment file (10 B) pending in 1 of 1 instance folder`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 for an unreachable database without showing its password, and 2 without a URL or with a bad one', async () => {
    const port = await unusedPort();
    const down = await run(process.execPath, [
      cli,
      'doctor',
      '--database-url',
      `postgres://app:hunter2-secret@127.0.0.1:${port}/analytics`,
    ]).catch((error: unknown) => error);
    expect((down as { code: number }).code).toBe(1);
    expect((down as { stdout: string }).stdout).toMatch(/^fail connection: postgres:\/\/app:\*\*\*@/);
    expect((down as { stdout: string }).stdout + (down as { stderr: string }).stderr).not.toContain(
      'hunter2',
    );

    const env = { ...process.env };
    delete env.OTEL_ANALYTICS_DATABASE_URL;
    delete env.DATABASE_URL;
    const usage = await run(process.execPath, [cli, 'doctor'], { env }).catch((error: unknown) => error);
    expect((usage as { code: number }).code).toBe(2);
    expect((usage as { stderr: string }).stderr).toMatch(/OTEL_ANALYTICS_DATABASE_URL/);
    const notUrl = await run(process.execPath, [cli, 'doctor', '--database-url', 'db.example']).catch(
      (error: unknown) => error,
    );
    expect((notUrl as { code: number }).code).toBe(2);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { doctor } from '../../doctor/doctor.js';
import { withTransaction } from '../../database/with-transaction.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { PostgresSpanExporterConfig } from '../../exporter/postgres-span-exporter-config.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { apiSpan } from '../../dev/spans.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { PgBouncer, pgbouncerMissing } from '../helpers/pgbouncer.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The exporter, doctor and the one-off clients through a real PgBouncer 1.18 in transaction
 * mode with its default settings: no `ignore_startup_parameters`, one server connection per
 * database and user, so every client of the writer shares the exporter's server connection.
 */
describe.skipIf(pgbouncerMissing !== undefined)(
  `through PgBouncer in transaction mode${pgbouncerMissing ? ` (skipped: ${pgbouncerMissing})` : ''}`,
  () => {
    let db: TestDatabase;
    let bouncer: PgBouncer;
    let writer: { user: string; password: string };
    let spoolDir: string;
    let exporters: PostgresSpanExporter[] = [];
    let warnings: string[] = [];
    let stopCapture: () => void = () => {};

    /** The writer's URL through PgBouncer, to `database` (the test database by default). */
    function writerUrl(change: { database?: string; password?: string; search?: string } = {}): string {
      const url = new URL(bouncer.urlFor(db.writerUrl));
      if (change.database !== undefined) url.pathname = `/${change.database}`;
      if (change.password !== undefined) url.password = change.password;
      if (change.search !== undefined) url.search = change.search;
      return url.toString();
    }

    function newExporter(options: Partial<PostgresSpanExporterConfig> = {}): PostgresSpanExporter {
      const exporter = new PostgresSpanExporter({
        connectionString: writerUrl(),
        spoolDir,
        retryDeadlineMillis: 500,
        initialRetryDelayMillis: 20,
        maxRetryDelayMillis: 100,
        connectionTimeoutMillis: 2000,
        statsIntervalMillis: 0,
        ...options,
      });
      exporters.push(exporter);
      return exporter;
    }

    function exportSpans(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
      return new Promise((resolve) => exporter.export(spans, () => resolve()));
    }

    async function apiRows(): Promise<{ rows: number; distinct: number }> {
      const [row] = await db.query<{ rows: number; distinct: number }>(
        'select count(*)::int as rows, count(distinct span_id)::int as distinct from api_access_log',
      );
      return row!;
    }

    /** Waits for the rows themselves, not for a time. */
    const rowsLand = (rows: number): Promise<void> =>
      vi.waitFor(async () => expect(await apiRows()).toEqual({ rows, distinct: rows }), {
        timeout: 15_000,
        interval: 50,
      });

    const spans = (n: number): ReadableSpanLike[] => Array.from({ length: n }, () => apiSpan());

    /** `statement_timeout` of a session straight to the server: what every connection starts with. */
    async function serverDefault(): Promise<string> {
      const [row] = await db.query<{ statement_timeout: string }>('show statement_timeout');
      return row!.statement_timeout;
    }

    beforeAll(async () => {
      db = await createTestDatabase('pgbouncer', { writer: true });
      const url = new URL(db.writerUrl);
      writer = { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      bouncer = await PgBouncer.start({
        databases: { [db.name]: db.name },
        users: { [writer.user]: writer.password },
        defaultPoolSize: 1,
      });
    }, 60_000);

    afterAll(async () => {
      await bouncer?.stop();
      await db?.drop();
    });

    beforeEach(async () => {
      ({ warnings, stop: stopCapture } = captureDiagWarnings());
      spoolDir = mkdtempSync(path.join(os.tmpdir(), 'pga-pgbouncer-spool-'));
      await db.query('truncate api_access_log, authentication_log, external_api_call_log');
    });

    afterEach(async () => {
      await Promise.all(exporters.map((exporter) => exporter.shutdown()));
      exporters = [];
      stopCapture();
      rmSync(spoolDir, { recursive: true, force: true });
      // Back to the configuration every test starts from.
      await bouncer.reconfigure({
        databases: { [db.name]: db.name },
        users: { [writer.user]: writer.password },
        settings: {},
      });
    });

    it('writes by COPY, and by INSERT when a batch comes again, with no startup parameter it rejects', async () => {
      const exporter = newExporter();
      const batch = spans(40);
      await exportSpans(exporter, batch);
      await exporter.forceFlush();
      expect(await apiRows()).toEqual({ rows: 40, distinct: 40 });
      // The same spans again: COPY fails on the duplicates, INSERT ... ON CONFLICT takes them.
      await exportSpans(exporter, batch);
      await exporter.forceFlush();
      expect(await apiRows()).toEqual({ rows: 40, distinct: 40 });
      expect(exporter.getStats()).toEqual(
        expect.objectContaining({ exportedRows: 80, droppedRows: {}, rejectedRows: {} }),
      );
      expect(warnings).toEqual([]);
    });

    it('has the server end a write past statementTimeoutMillis, and leaves no timeout nor prepared statement on the shared server connection', async () => {
      const unchanged = await serverDefault();
      const exporter = newExporter({ statementTimeoutMillis: 300, retryDeadlineMillis: 20_000 });
      const lock = new pg.Client({ connectionString: db.url });
      await lock.connect();
      try {
        await lock.query('begin');
        await lock.query('lock table api_access_log in access exclusive mode');
        await exportSpans(exporter, spans(5));
        // The COPY waits on the lock until the server cancels it (57014), then is retried.
        await vi.waitFor(() => expect(exporter.getStats().lastError).toMatch(/statement timeout/), {
          timeout: 10_000,
          interval: 20,
        });
      } finally {
        await lock.query('rollback');
        await lock.end();
      }
      await rowsLand(5);
      expect(exporter.getStats()).toEqual(expect.objectContaining({ exportedRows: 5, droppedRows: {} }));

      // PgBouncer holds one server connection for the writer: another client of the writer gets
      // the very connection the exporter wrote on, and sees the server's default.
      const [servers] = await db.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where usename = $1',
        [writer.user],
      );
      expect(servers!.n).toBe(1);
      const other = new pg.Client({ connectionString: writerUrl() });
      await other.connect();
      try {
        const { rows } = await other.query<{ statement_timeout: string }>('show statement_timeout');
        expect(rows[0]!.statement_timeout).toBe(unchanged);
        // Nor a named prepared statement (max_prepared_statements of PgBouncer 1.21+ is moot).
        const prepared = await other.query<{ n: number }>(
          'select count(*)::int as n from pg_prepared_statements',
        );
        expect(prepared.rows).toEqual([{ n: 0 }]);
      } finally {
        await other.end();
      }
    });

    it('spools while PgBouncer lacks the database, names the fix, then writes each row once after it is added and RELOADed', async () => {
      const alias = `${db.name}_alias`;
      const exporter = newExporter({ connectionString: writerUrl({ database: alias }) });
      await exportSpans(exporter, spans(30));
      await exporter.forceFlush();
      expect(exporter.getStats()).toEqual(
        expect.objectContaining({ spooledRows: 30, exportedRows: 0, droppedRows: {} }),
      );
      const warning = warnings.find((w) => w.includes('rows go to the spool'));
      expect(warning).toContain(`no database "${alias}" in its [databases] section`);
      expect(warning).toContain('RELOAD');

      await bouncer.reconfigure({ databases: { [db.name]: db.name, [alias]: db.name } });
      await rowsLand(30);
      await vi.waitFor(() => expect(exporter.getStats()).toMatchObject({ replayedRows: 30, spoolBytes: 0 }));
      expect(exporter.getStats().droppedRows).toEqual({});
    });

    it('spools while PgBouncer refuses the password, names the fix, then writes each row once after the auth_file is fixed', async () => {
      const exporter = newExporter({ connectionString: writerUrl({ password: 'not-the-password' }) });
      await exportSpans(exporter, spans(12));
      await exporter.forceFlush();
      expect(exporter.getStats()).toEqual(expect.objectContaining({ spooledRows: 12, droppedRows: {} }));
      expect(warnings.find((w) => w.includes('rows go to the spool'))).toContain('auth_file');

      // The operator's fix here: PgBouncer's auth_file holds the password the app uses.
      await bouncer.reconfigure({ users: { [writer.user]: 'not-the-password' } });
      await rowsLand(12);
      // Rows are visible on commit, a moment before the exporter counts the acknowledgement.
      await vi.waitFor(() =>
        expect(exporter.getStats()).toEqual(expect.objectContaining({ replayedRows: 12, droppedRows: {} })),
      );
    });

    it('spools while PgBouncer rejects a startup parameter of the connection string, then writes after ignore_startup_parameters', async () => {
      // The exporter sends none itself; a user's own `options` in the URL is one PgBouncer rejects.
      const search = `?options=${encodeURIComponent('-c lock_timeout=5000')}`;
      const exporter = newExporter({ connectionString: writerUrl({ search }) });
      await exportSpans(exporter, spans(7));
      await exporter.forceFlush();
      expect(exporter.getStats()).toEqual(expect.objectContaining({ spooledRows: 7, droppedRows: {} }));
      const warning = warnings.find((w) => w.includes('rows go to the spool'));
      expect(warning).toContain('rejected the startup parameter options');
      expect(warning).toContain('ignore_startup_parameters');

      await bouncer.reconfigure({ settings: { ignore_startup_parameters: 'options' } });
      await rowsLand(7);
      // Rows are visible on commit, a moment before the exporter counts the acknowledgement.
      await vi.waitFor(() =>
        expect(exporter.getStats()).toEqual(expect.objectContaining({ replayedRows: 7, droppedRows: {} })),
      );
    });

    it('doctor checks through PgBouncer, and names the fix when it lacks the database', async () => {
      const healthy = await doctor(writerUrl());
      expect(healthy.find((check) => check.check === 'connection')).toMatchObject({ status: 'ok' });
      expect(healthy.find((check) => check.check === 'privileges')).toMatchObject({ status: 'ok' });

      const missing = await doctor(writerUrl({ database: 'no_such_alias' }));
      expect(missing).toEqual([
        expect.objectContaining({
          check: 'connection',
          status: 'fail',
          message: expect.stringContaining('no database "no_such_alias" in its [databases] section'),
          fix: expect.stringContaining('no_such_alias = host='),
        }),
      ]);
    });

    it("withTransaction's statementTimeoutMillis (report) holds in its transaction only", async () => {
      const config = {
        connectionString: writerUrl(),
        applicationName: 'pga pgbouncer test',
        statementTimeoutMillis: 200,
      };
      await expect(
        withTransaction(config, (tx) => tx.query('select pg_sleep(5)'), { readOnly: true }),
      ).rejects.toMatchObject({
        code: '57014',
      });
      const after = await withTransaction(
        { ...config, statementTimeoutMillis: undefined },
        async (tx) =>
          (await tx.query<{ statement_timeout: string }>('show statement_timeout')).rows[0]!
            .statement_timeout,
      );
      const unchanged = await serverDefault();
      expect(after).toBe(unchanged);
    });
  },
);

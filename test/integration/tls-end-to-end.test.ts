import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../admin/migrate.js';
import { migrateRoles } from '../../admin/migrate-roles.js';
import { ConnectionFailedError } from '../../database/connection-failed-error.js';
import { withClient } from '../../database/with-client.js';
import { doctor } from '../../doctor/doctor.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { apiSpan } from '../../dev/spans.js';
import { startApp } from '../helpers/app-process.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { startTlsPostgres, type TlsPostgres } from '../helpers/tls-postgres.js';

// What a TLS failure says through withClient, doctor and the exporter, and rows written over
// TLS by the exporter and by an app under the register entry (test/integration/tls.test.ts
// has which sslmode connects to what).
let server: TlsPostgres;

beforeAll(async () => {
  server = await startTlsPostgres();
});

afterAll(async () => {
  await server?.stop();
});

describe('what a TLS failure says', () => {
  async function failure(url: string): Promise<ConnectionFailedError['failure']> {
    try {
      await withClient(
        { connectionString: url, applicationName: 'tls test', explainConnectionErrors: true },
        () => Promise.resolve(),
      );
    } catch (error) {
      if (error instanceof ConnectionFailedError) return error.failure;
      throw error;
    }
    throw new Error(`${url} connected`);
  }

  it('names the CA file, or asks for one, when the certificate is signed by a CA not trusted', async () => {
    const named = await failure(server.url({ sslmode: 'verify-full', sslrootcert: server.otherCaFile }));
    expect(named).toEqual({
      reason: 'tls_untrusted_ca',
      message: `the certificate of localhost:${server.port} is not signed by the CA in ${server.otherCaFile} (sslrootcert) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
      fix: "set sslrootcert to the file of the CA that signed the server's certificate, or use sslmode=require to encrypt without verifying",
    });
    const none = await failure(server.url({ sslmode: 'verify-full' }));
    expect(none.message).toBe(
      `the certificate of localhost:${server.port} is not signed by a CA this process trusts (Node's built-in CAs: no sslrootcert is given) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
    expect(none.fix).toBe(
      "add sslrootcert=/path/to/ca.crt (the CA that signed the server's certificate; a managed service publishes it) to the connection string, or use sslmode=require to encrypt without verifying",
    );
  });

  it("names the host and the certificate's names on a host name mismatch, and suggests verify-ca", async () => {
    const mismatch = await failure(
      server.url({ sslmode: 'verify-full', sslrootcert: server.caFile }, { host: '127.0.0.1' }),
    );
    expect(mismatch).toEqual({
      reason: 'tls_hostname_mismatch',
      message: `the certificate of 127.0.0.1:${server.port} is for localhost, not 127.0.0.1`,
      fix: 'connect by a name the certificate lists (localhost), or use sslmode=verify-ca to check the CA but not the host name',
    });
  });

  it('says so when the server offers no TLS and the sslmode requires it', async () => {
    await server.setSsl(false);
    try {
      const notOffered = await failure(server.url({ sslmode: 'require' }));
      expect(notOffered.reason).toBe('tls_not_offered');
      expect(notOffered.message).toBe(
        `localhost:${server.port} offers no TLS (its ssl setting is off), and sslmode=require requires it`,
      );
    } finally {
      await server.setSsl(true);
    }
  });

  it('doctor reports the failure and its fix, and the TLS of a connection that works', async () => {
    const [untrusted] = await doctor(server.url({ sslmode: 'verify-ca', sslrootcert: server.otherCaFile }));
    expect(untrusted).toEqual({
      check: 'connection',
      status: 'fail',
      message: `postgres://postgres:***@localhost:${server.port}/postgres?sslmode=verify-ca&sslrootcert=${encodeURIComponent(server.otherCaFile)}: the certificate of localhost:${server.port} is not signed by the CA in ${server.otherCaFile} (sslrootcert) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
      fix: "set sslrootcert to the file of the CA that signed the server's certificate, or use sslmode=require to encrypt without verifying",
    });
    const [invalid] = await doctor(server.url({ sslmode: 'verify_full' }));
    expect(invalid).toMatchObject({ check: 'connection', status: 'fail' });
    expect(invalid!.message).toContain('sslmode="verify_full" is not a valid sslmode');
    const [working] = await doctor(server.url({ sslmode: 'verify-full', sslrootcert: server.caFile }));
    expect(working).toMatchObject({ check: 'connection', status: 'ok' });
    expect(working!.message).toMatch(/, over TLSv1\.[23]$/);
  });

  it("the exporter's warning carries the same message", async () => {
    const { warnings, stop } = captureDiagWarnings();
    const exporter = new PostgresSpanExporter({
      connectionString: server.url({ sslmode: 'verify-full', sslrootcert: server.otherCaFile }),
      statsIntervalMillis: 0,
    });
    try {
      await new Promise((resolve) => exporter.export([apiSpan()], resolve));
      await exporter.forceFlush();
      expect(exporter.getStats().droppedRows).toEqual({ tls_failed: 1 });
      expect(warnings.join('\n')).toContain(
        `the certificate of localhost:${server.port} is not signed by the CA in ${server.otherCaFile} (sslrootcert) (UNABLE_TO_VERIFY_LEAF_SIGNATURE): set sslrootcert to the file of the CA`,
      );
    } finally {
      await exporter.shutdown();
      stop();
    }
  });
});

describe('rows over TLS', () => {
  it('an app under the register entry writes its requests over verify-full, and pg prints no SECURITY WARNING', async () => {
    await server.query('create database tls_app');
    const tls = { sslmode: 'verify-full', sslrootcert: server.caFile };
    const ownerUrl = server.url(tls, { database: 'tls_app' });
    await migrate(ownerUrl);
    await migrateRoles(ownerUrl, {
      writerRole: 'tls_app_w',
      readerRole: 'tls_app_r',
      writerPassword: 'w-secret',
    });
    const url = server.url(tls, { database: 'tls_app', user: 'tls_app_w', password: 'w-secret' });
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: url, OTEL_SERVICE_NAME: 'tls-app' },
    });
    for (const route of ['/a', '/b', '/c']) await (await fetch(`${app.url}${route}`)).text();
    // The register entry flushes on SIGTERM, then ends the process by the same signal.
    expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.stderr()).toBe('');
    const rows = await server.query<{ path: string }>(
      'select path from api_access_log order by path',
      'tls_app',
    );
    expect(rows.map((row) => row.path)).toEqual(['/a', '/b', '/c']);
    // Every connection of the app's exporter used TLS.
    const connections = server
      .log()
      .split('\n')
      .filter((line) => line.includes('connection authorized: user=tls_app_w database=tls_app'));
    expect(connections.length).toBeGreaterThan(0);
    expect(connections.filter((line) => !line.includes('SSL enabled'))).toEqual([]);
  });

  it('PostgresSpanExporter writes over sslmode=require (which pg alone would verify like verify-full)', async () => {
    await server.query('create database tls_exporter');
    const url = server.url({ sslmode: 'require' }, { database: 'tls_exporter' });
    await migrate(url);
    const exporter = new PostgresSpanExporter({ connectionString: url, statsIntervalMillis: 0 });
    try {
      const result = await new Promise<{ code: number }>((resolve) =>
        exporter.export([apiSpan(), apiSpan()], resolve),
      );
      await exporter.forceFlush();
      expect(result.code).toBe(0);
      expect(exporter.getStats()).toEqual(expect.objectContaining({ exportedRows: 2, droppedRows: {} }));
    } finally {
      await exporter.shutdown();
    }
    const rows = await server.query<{ n: number }>(
      'select count(*)::int as n from api_access_log',
      'tls_exporter',
    );
    expect(rows[0]!.n).toBe(2);
  });
});

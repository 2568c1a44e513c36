import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyConnectionError } from '../../database/classify-connection-error.js';
import { connectClient } from '../../database/connect-client.js';
import { createPool } from '../../database/create-pool.js';
import { clientConfigOf, type PgClientConfig } from '../../database/pg-client-config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/support/diag.js';
import { startTlsPostgres, type TlsPostgres } from '../helpers/tls-postgres.js';

const run = promisify(execFile);
const SSL_OF_THIS_SESSION = 'select ssl from pg_stat_ssl where pid = pg_backend_pid()';
const PSQL = ['/usr/bin/psql', '/usr/local/bin/psql'].find((file) => existsSync(file));

let server: TlsPostgres;
/** A HOME without ~/.postgresql, so that psql uses only the files a row names. */
let emptyHome: string;
/** pg's and Node's warnings (pg prints its SECURITY WARNING through process.emitWarning). */
const processWarnings: string[] = [];
const onWarning = (warning: Error): void => void processWarnings.push(warning.message);

beforeAll(async () => {
  server = await startTlsPostgres();
  emptyHome = mkdtempSync(path.join(os.tmpdir(), 'pga-tls-home-'));
  process.on('warning', onWarning);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await server?.stop();
  if (emptyHome) rmSync(emptyHome, { recursive: true, force: true });
});

/** `tls`, `plain`, or `refused (<reason>)` for a client of ours, as libpq's verdict reads. */
async function ours(url: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  let config: PgClientConfig;
  try {
    config = clientConfigOf(url, env);
  } catch (error) {
    if (error instanceof ConfigError) return 'refused (config)';
    throw error;
  }
  let client: pg.Client;
  try {
    client = await connectClient(config);
  } catch (error) {
    const target = { host: config.tls.host, port: config.tls.port, database: '', user: '', tls: config.tls };
    return `refused (${classifyConnectionError(error, target, 0).reason})`;
  }
  try {
    const rows = (await client.query<{ ssl: boolean }>(SSL_OF_THIS_SESSION)).rows;
    return rows[0]!.ssl ? 'tls' : 'plain';
  } finally {
    await client.end();
  }
}

/** psql's verdict on the same URL: `tls`, `plain` or `refused`. */
async function libpq(url: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await run(PSQL!, [url, '-XAtc', SSL_OF_THIS_SESSION], {
      env: { PATH: process.env.PATH, HOME: emptyHome, ...env },
    });
    return stdout.trim() === 't' ? 'tls' : 'plain';
  } catch {
    return 'refused';
  }
}

/** The verdict without its reason, to compare with psql's. */
function accepted(verdict: string): string {
  return verdict.startsWith('refused') ? 'refused' : verdict;
}

interface Row {
  params: Record<string, string>;
  host?: string;
  tlsOnlyRole?: boolean;
  expected: string;
  /** Why psql's verdict is no reference for this row. */
  notInPsql?: string;
}

function urlOf(row: Row): string {
  const params = { ...row.params };
  for (const [name, value] of Object.entries(params)) {
    if (value === 'CA') params[name] = server.caFile;
    if (value === 'OTHER_CA') params[name] = server.otherCaFile;
  }
  return row.tlsOnlyRole ? server.tlsOnlyUrl(params) : server.url(params, { host: row.host });
}

function label(row: Row): string {
  const params = Object.entries(row.params).map(([name, value]) => `${name}=${value}`);
  const who = row.tlsOnlyRole ? ' (a role pg_hba.conf lets in over TLS only)' : '';
  return `${params.join('&') || 'no sslmode'} to ${row.host ?? 'localhost'}${who}: ${row.expected}`;
}

/** Server with ssl = on; its certificate is for localhost only, signed by CA. */
const WITH_TLS: Row[] = [
  { params: {}, expected: 'tls' },
  { params: { sslmode: 'disable' }, expected: 'plain' },
  { params: { sslmode: 'allow' }, expected: 'plain' },
  { params: { sslmode: 'prefer' }, expected: 'tls' },
  { params: { sslmode: 'require' }, expected: 'tls' },
  { params: { sslmode: 'require', sslrootcert: 'CA' }, expected: 'tls' },
  { params: { sslmode: 'require', sslrootcert: 'OTHER_CA' }, expected: 'refused (tls_untrusted_ca)' },
  { params: { sslmode: 'require', sslrootcert: 'CA' }, host: '127.0.0.1', expected: 'tls' },
  { params: { sslmode: 'verify-ca', sslrootcert: 'CA' }, expected: 'tls' },
  { params: { sslmode: 'verify-ca', sslrootcert: 'CA' }, host: '127.0.0.1', expected: 'tls' },
  { params: { sslmode: 'verify-ca', sslrootcert: 'OTHER_CA' }, expected: 'refused (tls_untrusted_ca)' },
  { params: { sslmode: 'verify-ca' }, expected: 'refused (config)' },
  { params: { sslmode: 'verify-full', sslrootcert: 'CA' }, expected: 'tls' },
  {
    params: { sslmode: 'verify-full', sslrootcert: 'CA' },
    host: '127.0.0.1',
    expected: 'refused (tls_hostname_mismatch)',
  },
  { params: { sslmode: 'verify-full', sslrootcert: 'OTHER_CA' }, expected: 'refused (tls_untrusted_ca)' },
  { params: { sslmode: 'verify-full' }, expected: 'refused (tls_untrusted_ca)' },
  {
    params: { sslrootcert: 'system' },
    expected: 'refused (tls_untrusted_ca)',
    notInPsql: 'libpq reads sslrootcert=system from version 16 on',
  },
  { params: { sslmode: 'disable' }, tlsOnlyRole: true, expected: 'refused (auth_failed)' },
  { params: { sslmode: 'allow' }, tlsOnlyRole: true, expected: 'tls' },
  { params: { sslmode: 'prefer' }, tlsOnlyRole: true, expected: 'tls' },
];

/** The same server after `ssl = off` and a reload. */
const WITHOUT_TLS: Row[] = [
  { params: {}, expected: 'plain' },
  { params: { sslmode: 'disable' }, expected: 'plain' },
  { params: { sslmode: 'allow' }, expected: 'plain' },
  { params: { sslmode: 'prefer' }, expected: 'plain' },
  { params: { sslmode: 'require' }, expected: 'refused (tls_not_offered)' },
  { params: { sslmode: 'verify-ca', sslrootcert: 'CA' }, expected: 'refused (tls_not_offered)' },
  { params: { sslmode: 'verify-full', sslrootcert: 'CA' }, expected: 'refused (tls_not_offered)' },
  { params: { sslmode: 'prefer' }, tlsOnlyRole: true, expected: 'refused (auth_failed)' },
];

describe('sslmode as libpq means it, against a server with TLS', () => {
  it.each(WITH_TLS.map((row) => [label(row), row] as const))('%s', async (_label, row) => {
    const verdict = await ours(urlOf(row));
    expect(verdict).toBe(row.expected);
    // libpq is the reference, where the machine has psql.
    if (PSQL && !row.notInPsql) expect(await libpq(urlOf(row))).toBe(accepted(verdict));
  });
});

describe('sslmode as libpq means it, against a server without TLS', () => {
  beforeAll(async () => {
    await server.setSsl(false);
  });

  afterAll(async () => {
    await server.setSsl(true);
  });

  it.each(WITHOUT_TLS.map((row) => [label(row), row] as const))('%s', async (_label, row) => {
    const verdict = await ours(urlOf(row));
    expect(verdict).toBe(row.expected);
    if (PSQL) expect(await libpq(urlOf(row))).toBe(accepted(verdict));
  });

  it('lets a pool under prefer fall back to plaintext once, then open every connection unencrypted', async () => {
    const pool = createPool(
      { connectionString: server.url(), max: 3, statementTimeoutMillis: 5000, connectionTimeoutMillis: 5000 },
      createLogger('test'),
    );
    try {
      const sessions = await Promise.all(
        [1, 2, 3].map(async () => {
          const client = await pool.connect();
          try {
            return (await client.query<{ ssl: boolean }>(SSL_OF_THIS_SESSION)).rows[0]!.ssl;
          } finally {
            client.release();
          }
        }),
      );
      expect(sessions).toEqual([false, false, false]);
      expect(pool.options.ssl).toBe(false);
    } finally {
      await pool.end();
    }
  });
});

describe('the libpq environment variables', () => {
  it('honours PGSSLMODE and PGSSLROOTCERT where the URL has no sslmode or sslrootcert', async () => {
    const env = { PGSSLMODE: 'verify-full', PGSSLROOTCERT: server.caFile };
    expect(await ours(server.url(), env)).toBe('tls');
    expect(await ours(server.url({}, { host: '127.0.0.1' }), env)).toBe('refused (tls_hostname_mismatch)');
    expect(await ours(server.url(), { PGSSLMODE: 'disable' })).toBe('plain');
    expect(await ours(server.url(), { PGSSLMODE: 'verify-full', PGSSLROOTCERT: server.otherCaFile })).toBe(
      'refused (tls_untrusted_ca)',
    );
    if (PSQL) expect(await libpq(server.url({}, { host: '127.0.0.1' }), env)).toBe('refused');
  });

  it("lets the URL's sslmode and sslrootcert win over the environment's", async () => {
    const url = server.url({ sslmode: 'verify-full', sslrootcert: server.caFile });
    expect(await ours(url, { PGSSLMODE: 'disable', PGSSLROOTCERT: server.otherCaFile })).toBe('tls');
    expect(await ours(server.url({ sslmode: 'disable' }), { PGSSLMODE: 'verify-full' })).toBe('plain');
  });
});

describe('configuration errors', () => {
  it('refuses an invalid sslmode, naming the value', () => {
    const attempt = (): unknown => clientConfigOf(server.url({ sslmode: 'required' }), {});
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'sslmode="required" is not a valid sslmode: use disable, allow, prefer, require, verify-ca or verify-full',
    );
    expect(() => clientConfigOf(server.url(), { PGSSLMODE: 'on' })).toThrow(
      'sslmode="on" (from PGSSLMODE) is not a valid sslmode',
    );
  });

  it('refuses what libpq refuses: verify-ca without a CA, sslrootcert=system below verify-full, a missing file', () => {
    expect(() => clientConfigOf(server.url({ sslmode: 'verify-ca' }), {})).toThrow(
      'sslmode=verify-ca needs sslrootcert=/path/to/ca.crt',
    );
    expect(() => clientConfigOf(server.url({ sslmode: 'require', sslrootcert: 'system' }), {})).toThrow(
      'sslrootcert=system needs sslmode=verify-full (not require)',
    );
    expect(() =>
      clientConfigOf(server.url({ sslmode: 'verify-full', sslrootcert: '/nonexistent/ca.crt' }), {}),
    ).toThrow('sslrootcert=/nonexistent/ca.crt cannot be read (ENOENT)');
  });

  it('uses no TLS on a Unix socket, whatever the sslmode, as libpq', () => {
    for (const url of [
      'postgres://u@%2Fvar%2Frun%2Fpostgresql/app?sslmode=require',
      'postgres://u@/app?host=/var/run/postgresql&sslmode=require',
      'socket:/var/run/postgresql?db=app&sslmode=require',
    ]) {
      expect(clientConfigOf(url, {})).toMatchObject({ ssl: false, tls: { host: '/var/run/postgresql' } });
    }
    expect(clientConfigOf('postgres://u@db.example/app?sslmode=require', {}).ssl).toEqual({
      rejectUnauthorized: false,
    });
  });

  it('takes the TLS parameters out of the URL pg sees, and keeps the rest as written', () => {
    const config = clientConfigOf(
      `postgres://u:p%40ss@db.example:6543/app?sslmode=require&application_name=a%20b&sslrootcert=${server.caFile}&options=-c%20x%3D1`,
      {},
    );
    expect(config.connectionString).toBe(
      'postgres://u:p%40ss@db.example:6543/app?application_name=a%20b&options=-c%20x%3D1',
    );
    expect(config.tls).toMatchObject({
      mode: 'require',
      rootCert: server.caFile,
      host: 'db.example',
      port: 6543,
    });
  });
});

describe('pg itself', () => {
  it('printed no SECURITY WARNING in this process, whatever the sslmode', () => {
    expect(processWarnings.filter((warning) => warning.includes('SECURITY WARNING'))).toEqual([]);
  });
});

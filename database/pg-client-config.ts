import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ConfigError } from '../src/errors.js';

/** libpq's `sslmode` values, with libpq's meanings (https://www.postgresql.org/docs/current/libpq-ssl.html). */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

const SSL_MODES: ReadonlySet<string> = new Set<SslMode>([
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
]);

/** Modes that may connect without TLS; `sslrootcert=system` and `sslnegotiation=direct` refuse them. */
const WEAK_MODES: ReadonlySet<SslMode> = new Set<SslMode>(['disable', 'allow', 'prefer']);

/**
 * The parameters read here, taken out of the URL before pg sees it: pg's own parsing gives
 * `sslmode` other meanings (`require` verifies like `verify-full`) and prints a SECURITY
 * WARNING on the app's stderr.
 */
const TLS_PARAMS: ReadonlySet<string> = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslnegotiation',
  'ssl',
  'uselibpqcompat',
]);

/** A second attempt libpq makes when the first fails in a particular way. */
export interface TlsFallback {
  /**
   * `tls_refused`: the server answered the SSLRequest with 'N' (prefer: then plaintext);
   * `plaintext_rejected`: the server refused the unencrypted connection (allow: then TLS).
   */
  when: 'tls_refused' | 'plaintext_rejected';
  /** The `ssl` of the second attempt. */
  ssl: false | tls.ConnectionOptions;
}

/** What the TLS settings came to, for the fallback and for messages. */
export interface TlsSettings {
  mode: SslMode;
  /** `sslrootcert` as given (a file, or `system`); `undefined` without one. */
  rootCert: string | undefined;
  /** The host the certificate must name under verify-full, and the port: for messages. */
  host: string;
  port: number;
  /** prefer and allow: the second attempt, if the first fails as {@link TlsFallback.when} says. */
  fallback: TlsFallback | undefined;
}

/** A pg client (or pool) config that connects as libpq would. */
export interface PgClientConfig {
  /** The connection string without its TLS parameters: pg reads everything else as it always did. */
  connectionString: string;
  /** Always set: pg reads PGSSLMODE (with its own meanings) only when `ssl` is missing. */
  ssl: false | tls.ConnectionOptions;
  /** Always set, for the same reason (PGSSLNEGOTIATION). */
  sslnegotiation: 'postgres' | 'direct';
  /** Not read by pg: the TLS settings, for {@link TlsFallback} and for messages. */
  tls: TlsSettings;
}

/**
 * Turns a connection string (and, where it lacks them, libpq's PGSSLMODE, PGSSLROOTCERT,
 * PGSSLCERT, PGSSLKEY and PGSSLNEGOTIATION) into a pg config in which `sslmode` and
 * `sslrootcert` mean what they mean to libpq and psql:
 *
 * | sslmode | encrypts | verifies the CA | verifies the host name |
 * | --- | --- | --- | --- |
 * | disable | no | no | no |
 * | allow | if the server insists | no | no |
 * | prefer (the default) | if the server offers TLS | no | no |
 * | require | yes | only with `sslrootcert` (then as verify-ca) | no |
 * | verify-ca | yes | yes (`sslrootcert` needed) | no |
 * | verify-full | yes | yes (without `sslrootcert`: Node's CAs) | yes |
 *
 * `sslrootcert=system` trusts the system's CAs, and as in libpq needs verify-full (the default
 * with it). Unix-socket connections never use TLS. pg itself never sees these parameters, so it
 * prints no SECURITY WARNING. Throws a {@link ConfigError} that quotes the value for an invalid
 * sslmode, a file that cannot be read, or a combination libpq refuses.
 *
 * ```ts
 * const client = new pg.Client(clientConfigOf('postgres://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.crt'));
 * ```
 */
export function clientConfigOf(
  connectionString: string,
  env: NodeJS.ProcessEnv = process.env,
): PgClientConfig {
  const { params, rest } = splitTlsParams(connectionString);
  const rootCert = given(params.get('sslrootcert')) ?? given(env.PGSSLROOTCERT);
  const mode = sslModeOf(params, env, rootCert);
  const negotiation = given(params.get('sslnegotiation')) ?? given(env.PGSSLNEGOTIATION) ?? 'postgres';
  if (negotiation !== 'postgres' && negotiation !== 'direct') {
    throw new ConfigError(
      `sslnegotiation=${JSON.stringify(negotiation)} is not valid: use postgres (the default) or direct`,
    );
  }
  if (negotiation === 'direct' && WEAK_MODES.has(mode)) {
    throw new ConfigError(
      `sslnegotiation=direct cannot fall back to an unencrypted connection, so it needs sslmode=require, verify-ca or verify-full, not ${mode}`,
    );
  }
  if (rootCert === 'system' && mode !== 'verify-full') {
    throw new ConfigError(
      `sslrootcert=system needs sslmode=verify-full (not ${mode}): anyone can get a certificate from a public CA for a name they control, so only the host name check makes it safe`,
    );
  }
  if (mode === 'verify-ca' && rootCert === undefined) {
    throw new ConfigError(
      'sslmode=verify-ca needs sslrootcert=/path/to/ca.crt, the CA that signed the server certificate (a public CA signs certificates for anyone): add it, or use sslmode=verify-full',
    );
  }
  const { host, port } = hostAndPort(rest, env);
  const settings = { mode, rootCert, host, port };
  const config = (ssl: false | tls.ConnectionOptions, fallback?: TlsFallback): PgClientConfig => ({
    connectionString: rest,
    ssl,
    sslnegotiation: negotiation,
    tls: { ...settings, fallback },
  });
  // libpq never uses TLS on a Unix socket, whatever the sslmode.
  if (mode === 'disable' || host.startsWith('/')) return config(false);
  const client = clientCertificate(params, env);
  // Each object is pg's own from here on: pg hides its `key` (non-enumerable), so none is
  // copied from another after it was handed over.
  const unverified = (): tls.ConnectionOptions => ({ ...client, rejectUnauthorized: false });
  switch (mode) {
    case 'allow':
      return config(false, { when: 'plaintext_rejected', ssl: unverified() });
    case 'prefer':
      return config(unverified(), { when: 'tls_refused', ssl: false });
    case 'require':
      // As libpq: with a root certificate, require checks the CA (but not the name).
      return config(rootCert === undefined ? unverified() : verifyCa(rootCert, client));
    case 'verify-ca':
      return config(verifyCa(rootCert!, client));
    case 'verify-full':
      return config({ ...client, ...(rootCert !== undefined && { ca: trusted(rootCert) }) });
  }
}

/** The TLS parameters of the query string, and the connection string without them (not re-encoded). */
function splitTlsParams(connectionString: string): { params: URLSearchParams; rest: string } {
  const params = new URLSearchParams();
  const question = connectionString.indexOf('?');
  if (question < 0) return { params, rest: connectionString };
  const kept: string[] = [];
  for (const pair of connectionString.slice(question + 1).split('&')) {
    const [name = '', value = ''] = new URLSearchParams(pair).entries().next().value ?? [];
    if (TLS_PARAMS.has(name)) params.set(name, value);
    else if (pair !== '') kept.push(pair);
  }
  const base = connectionString.slice(0, question);
  return { params, rest: kept.length > 0 ? `${base}?${kept.join('&')}` : base };
}

function sslModeOf(params: URLSearchParams, env: NodeJS.ProcessEnv, rootCert: string | undefined): SslMode {
  const fromUrl = given(params.get('sslmode'));
  const legacy = given(params.get('ssl'));
  const raw = fromUrl ?? (legacy === undefined ? given(env.PGSSLMODE) : legacySslMode(legacy));
  if (raw === undefined) return rootCert === 'system' ? 'verify-full' : 'prefer';
  if (SSL_MODES.has(raw)) return raw as SslMode;
  const source = fromUrl === undefined && legacy === undefined ? ' (from PGSSLMODE)' : '';
  throw new ConfigError(
    `sslmode=${JSON.stringify(raw)}${source} is not a valid sslmode: use disable, allow, prefer, require, verify-ca or verify-full`,
  );
}

/** pg's own `ssl=` parameter, in the sslmode that does what pg did with it. */
function legacySslMode(value: string): string {
  if (value === 'true' || value === '1') return 'verify-full';
  if (value === 'no-verify') return 'require';
  if (value === 'false' || value === '0') return 'disable';
  throw new ConfigError(
    `ssl=${JSON.stringify(value)} is not valid: use sslmode= (disable, prefer, require, verify-ca, verify-full)`,
  );
}

/** The certificate and key the client presents, if the server asks for one. */
function clientCertificate(params: URLSearchParams, env: NodeJS.ProcessEnv): tls.ConnectionOptions {
  const certFile = given(params.get('sslcert')) ?? given(env.PGSSLCERT);
  const keyFile = given(params.get('sslkey')) ?? given(env.PGSSLKEY);
  const passphrase = given(params.get('sslpassword'));
  return {
    ...(certFile !== undefined && { cert: readPem('sslcert', certFile) }),
    ...(keyFile !== undefined && { key: readPem('sslkey', keyFile) }),
    ...(passphrase !== undefined && { passphrase }),
  };
}

/** Checks the certificate's chain against `rootCert`, not the host name (verify-ca). */
function verifyCa(rootCert: string, client: tls.ConnectionOptions): tls.ConnectionOptions {
  return { ...client, ca: trusted(rootCert), checkServerIdentity: () => undefined };
}

/** The CAs to trust: the file's (and only those, as in libpq), or the system's. */
function trusted(rootCert: string): string | string[] {
  return rootCert === 'system' ? tls.getCACertificates('system') : readPem('sslrootcert', rootCert);
}

function readPem(parameter: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(
      `${parameter}=${file} cannot be read (${typeof code === 'string' ? code : String(error)}): fix the path, or let this process read the file`,
      { cause: error },
    );
  }
}

/** Where pg will connect, as pg-connection-string and pg read it (for messages and Unix sockets). */
function hostAndPort(connectionString: string, env: NodeJS.ProcessEnv): { host: string; port: number } {
  if (connectionString.startsWith('/')) {
    return { host: connectionString.split(' ')[0]!, port: Number(env.PGPORT) || 5432 };
  }
  const url = parsedUrl(connectionString);
  const query = url?.searchParams;
  const hostname =
    url?.protocol === 'socket:'
      ? decodeURI(url.pathname)
      : url?.hostname === DUMMY_HOST
        ? ''
        : decodeURIComponent(url?.hostname ?? '').replace(/^\[(.+)\]$/, '$1');
  const host = given(query?.get('host')) ?? given(hostname) ?? given(env.PGHOST) ?? 'localhost';
  const port = Number(given(query?.get('port')) ?? given(url?.port) ?? given(env.PGPORT) ?? 5432);
  return { host, port: Number.isInteger(port) ? port : 5432 };
}

const DUMMY_HOST = 'dummy.invalid';

/** As pg-connection-string reads it: `postgres://user@/db?host=/socket/dir` has no host in the URL. */
function parsedUrl(connectionString: string): URL | undefined {
  for (const candidate of [connectionString, connectionString.replace('@/', `@${DUMMY_HOST}/`)]) {
    try {
      return new URL(candidate);
    } catch {
      // pg reports an unreadable connection string itself, when it connects.
    }
  }
  return undefined;
}

function given(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

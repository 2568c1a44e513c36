import { classifyPoolerError } from './classify-pooler-error.js';
import type { SslMode } from './pg-client-config.js';

/** Why a connection attempt failed, as far as the operator can do something about it. */
export type ConnectionFailure =
  | 'invalid_connection_string'
  | 'refused'
  | 'host_not_found'
  | 'timeout'
  | 'auth_failed'
  | 'database_missing'
  | 'server_busy'
  | 'other'
  | PoolerConnectionFailure
  | TlsConnectionFailure;

/** Why PgBouncer refused the connection, beyond the reasons above (see {@link classifyPoolerError}). */
export type PoolerConnectionFailure = 'startup_parameter_rejected' | 'pooler_rejected';

/** Why TLS with the server failed (see {@link classifyTlsFailure}). */
export type TlsConnectionFailure =
  'tls_untrusted_ca' | 'tls_hostname_mismatch' | 'tls_not_offered' | 'tls_failed';

/** A failed connection attempt, explained. */
export interface ConnectionFailureClass {
  reason: ConnectionFailure;
  /** What happened, with the driver's own words. */
  message: string;
  /** What to do about it. */
  fix: string;
}

/** Where the connection was going (from the parsed connection string; never the password). */
export interface ConnectionTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  /** The TLS settings of the attempt, so that a TLS failure's fix names them. */
  tls?: { mode: SslMode; rootCert: string | undefined };
}

const TIMEOUT_ERRNOS = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

/**
 * Classifies an error from `pg`'s `connect()` by SQLSTATE, errno, or (for the few `pg` raises
 * without either: its own connection timeout, a missing password; and for PgBouncer's, which
 * all share 08P01) by message.
 */
export function classifyConnectionError(
  error: unknown,
  target: ConnectionTarget,
  timeoutMillis: number,
): ConnectionFailureClass {
  const code = errorCode(error);
  const text = errorText(error);
  const where = `${target.host}:${target.port}`;
  const tlsFailure = classifyTlsFailure(error, { host: target.host, port: target.port, ...target.tls });
  if (tlsFailure !== undefined) return tlsFailure;
  const poolerFailure = classifyPoolerError(error, target);
  if (poolerFailure !== undefined) return poolerFailure;

  if (code === 'ECONNREFUSED') {
    return {
      reason: 'refused',
      message: `connection refused by ${where}: nothing listens there (${text})`,
      fix: 'start PostgreSQL, or fix the host and port in the connection string',
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      reason: 'host_not_found',
      message: `host ${target.host} not found (${text})`,
      fix: 'fix the host in the connection string, or the DNS that should resolve it',
    };
  }
  if (TIMEOUT_ERRNOS.has(code) || (code === '' && /timeout|timed out/i.test(text))) {
    return {
      reason: 'timeout',
      message: `no answer from ${where} within ${timeoutMillis} ms (${text})`,
      fix: 'check the host and port, and any firewall or security group between here and the server; an overloaded server answers late too',
    };
  }
  // 28P01: wrong password; 28000: no such role, or pg_hba.conf rejects this host or method.
  // Without a password `pg` fails before asking the server, with a message about it.
  if (code.startsWith('28') || (code === '' && /password/i.test(text))) {
    return {
      reason: 'auth_failed',
      message: `authentication as ${JSON.stringify(target.user)} failed (${text})`,
      fix: 'check the user name and password in the connection string, and that pg_hba.conf lets this user connect from here',
    };
  }
  if (code === '3D000') {
    return {
      reason: 'database_missing',
      message: `database ${JSON.stringify(target.database)} does not exist on ${where}`,
      fix: `create it (\`createdb ${target.database}\`) or fix the database name in the connection string, then run \`otel-pg-analytics migrate\``,
    };
  }
  // 53300: too_many_connections; 57P03: cannot_connect_now (starting up, shutting down, recovery).
  if (code === '53300' || code === '57P03') {
    return {
      reason: 'server_busy',
      message: `${where} accepts no connection now (${text})`,
      fix: 'try again shortly; if it persists, raise max_connections or lower the pools of the apps using this server',
    };
  }
  return {
    reason: 'other',
    message: `cannot connect to ${where}: ${text}`,
    fix: 'check the connection string and the server log',
  };
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** The message, also for the `AggregateError` Node raises when every address of a host fails. */
function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map((inner) => errorText(inner)).join('; ');
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Where a TLS connection went, and with which settings (to name them in the fix). */
export interface TlsTarget {
  host: string;
  port: number;
  mode?: SslMode | undefined;
  rootCert?: string | undefined;
}

/**
 * OpenSSL's verdicts (Node's `code`) for a certificate chain that does not lead to a CA this
 * process trusts: the CAs of `sslrootcert`, or Node's own without it.
 */
const UNTRUSTED_CHAIN_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'INVALID_CA',
]);

/** Other verdicts on the server's certificate (dates, revocation, purpose). */
const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'INVALID_PURPOSE',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
]);

/**
 * Explains a TLS failure, naming the fix in the terms of the connection string (`sslmode`,
 * `sslrootcert`): a certificate signed by a CA this process does not trust, a certificate for
 * another host name, a server that offers no TLS when the sslmode requires it, or another TLS
 * failure. `undefined` for an error that is not about TLS.
 */
export function classifyTlsFailure(error: unknown, target: TlsTarget): ConnectionFailureClass | undefined {
  const code = errorCode(error);
  const text = errorText(error);
  const where = `${target.host}:${target.port}`;
  const rootCert = target.rootCert;
  const rootCertFile = rootCert !== undefined && rootCert !== 'system' ? rootCert : undefined;

  if (UNTRUSTED_CHAIN_CODES.has(code)) {
    const trusted =
      rootCertFile !== undefined
        ? `the CA in ${rootCertFile} (sslrootcert)`
        : rootCert === 'system'
          ? "a CA this process trusts (the system's, sslrootcert=system)"
          : "a CA this process trusts (Node's built-in CAs: no sslrootcert is given)";
    const withoutVerifying =
      target.mode === 'require'
        ? 'or remove sslrootcert: sslmode=require without it encrypts without verifying'
        : 'or use sslmode=require to encrypt without verifying';
    return {
      reason: 'tls_untrusted_ca',
      message: `the certificate of ${where} is not signed by ${trusted} (${code})`,
      fix:
        rootCertFile !== undefined
          ? `set sslrootcert to the file of the CA that signed the server's certificate, ${withoutVerifying}`
          : `add sslrootcert=/path/to/ca.crt (the CA that signed the server's certificate; a managed service publishes it) to the connection string, ${withoutVerifying}`,
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = certificateNames(error);
    const host = (error as { host?: unknown }).host;
    const named = names.length > 0 ? names.join(', ') : 'other names';
    return {
      reason: 'tls_hostname_mismatch',
      message: `the certificate of ${where} is for ${named}, not ${typeof host === 'string' ? host : target.host}`,
      fix: `connect by a name the certificate lists${names.length > 0 ? ` (${names.join(', ')})` : ''}, or use sslmode=verify-ca to check the CA but not the host name`,
    };
  }
  // pg raises this without a code, when the server answers 'N' to its SSLRequest.
  if (code === '' && /does not support SSL/i.test(text)) {
    const mode = target.mode ?? 'require';
    return {
      reason: 'tls_not_offered',
      message: `${where} offers no TLS (its ssl setting is off), and sslmode=${mode} requires it`,
      fix: "turn ssl on in the server's postgresql.conf (with ssl_cert_file and ssl_key_file), or use sslmode=prefer to connect unencrypted to a server without TLS",
    };
  }
  if (
    CERTIFICATE_CODES.has(code) ||
    /^ERR_(TLS|SSL|OSSL)_/.test(code) ||
    code === 'EPROTO' ||
    (code === '' && /establishing an SSL connection/i.test(text))
  ) {
    return {
      reason: 'tls_failed',
      message: `TLS with ${where} failed: ${text}${code !== '' && !text.includes(code) ? ` (${code})` : ''}`,
      fix: "check the server's certificate (its dates, the chain it sends), the sslmode, and sslcert and sslkey if the server asks for a client certificate",
    };
  }
  return undefined;
}

/** The names a certificate is for: its subjectAltName entries, else its common name. */
function certificateNames(error: unknown): string[] {
  const cert = (error as { cert?: { subjectaltname?: unknown; subject?: { CN?: unknown } } }).cert;
  if (typeof cert?.subjectaltname === 'string' && cert.subjectaltname !== '') {
    return cert.subjectaltname.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
  }
  const commonName = cert?.subject?.CN;
  return typeof commonName === 'string' ? [commonName] : [];
}

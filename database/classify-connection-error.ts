/** Why a connection attempt failed, as far as the operator can do something about it. */
export type ConnectionFailure =
  | 'invalid_connection_string'
  | 'refused'
  | 'host_not_found'
  | 'timeout'
  | 'auth_failed'
  | 'database_missing'
  | 'server_busy'
  | 'other';

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
}

const TIMEOUT_ERRNOS = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);

/**
 * Classifies an error from `pg`'s `connect()` by SQLSTATE, errno, or (for the few `pg` raises
 * without either: its own connection timeout, a missing password) by message.
 */
export function classifyConnectionError(
  error: unknown,
  target: ConnectionTarget,
  timeoutMillis: number,
): ConnectionFailureClass {
  const code = errorCode(error);
  const text = errorText(error);
  const where = `${target.host}:${target.port}`;

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

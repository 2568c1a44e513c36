import type { ConnectionFailureClass, ConnectionTarget } from './classify-connection-error.js';

/** SQLSTATE protocol_violation: PgBouncer's code for every error of its own. */
const PGBOUNCER_CODE = '08P01';

/**
 * The login errors PgBouncer sends for its own reasons (or, at login, relays from the server
 * behind it), which leave the pool unable to serve now but need no fix: an exhausted or
 * waiting pool, a server it cannot reach or that is starting or stopping, a limit it enforces.
 */
const BUSY = [
  /^no more connections allowed/, // max_client_conn
  /^query_wait_timeout$/, // no server connection came free (pool too small, or the server is down)
  /^client_login_timeout/, // "client_login_timeout (server down)"
  /^server login has been failing/, // server_login_retry
  /^server conn crashed\?$/,
  /^pgbouncer cannot connect to server$/,
  /^query_timeout$/,
  /^idle transaction timeout$/,
  /^client_idle_timeout$/,
  /^the database system is (starting up|shutting down|in recovery mode)/,
  /^sorry, too many clients already$/,
  /connection slots are reserved/,
];

/**
 * PgBouncer's errors, explained. PgBouncer (1.18 and others before it) sends every error of its
 * own with SQLSTATE 08P01, and relays the server's login errors with 08P01 too, so only the
 * message tells them apart: a startup parameter it does not pass on, a database missing from
 * its `[databases]` section or disabled, a login it or the server behind it refused, or a pool
 * that cannot serve now (`server_busy`). `undefined` for any other error, which the caller
 * classifies as it would without a pooler. Without a `target`, messages name no address.
 */
export function classifyPoolerError(
  error: unknown,
  target?: ConnectionTarget,
): ConnectionFailureClass | undefined {
  if ((error as { code?: unknown } | null)?.code !== PGBOUNCER_CODE) return undefined;
  const text = error instanceof Error ? error.message : String(error);
  const pgbouncer = target === undefined ? 'PgBouncer' : `PgBouncer at ${target.host}:${target.port}`;
  const user = target === undefined ? 'the user' : JSON.stringify(target.user);

  const parameter = /^unsupported startup parameter: ([^=\s]+)/.exec(text)?.[1];
  if (parameter !== undefined) {
    return {
      reason: 'startup_parameter_rejected',
      message: `${pgbouncer} rejected the startup parameter ${parameter} (${text})`,
      fix: `remove ${parameter} from the connection string and from PGOPTIONS (otel-pg-analytics sends no startup parameter but application_name; older versions sent statement_timeout: upgrade), or add ${parameter} to ignore_startup_parameters in the [pgbouncer] section of pgbouncer.ini and RELOAD (PgBouncer then drops it: the setting never reaches the server)`,
    };
  }
  const database = /^no such database: (.*)$/.exec(text)?.[1];
  if (database !== undefined) {
    return {
      reason: 'database_missing',
      message: `${pgbouncer} has no database ${JSON.stringify(database)} in its [databases] section (${text})`,
      fix: `add \`${database} = host=... port=... dbname=...\` under [databases] in pgbouncer.ini (or a \`*\` fallback) and RELOAD, or fix the database name in the connection string`,
    };
  }
  const disabled = /^database "(.*)" is disabled$/.exec(text)?.[1];
  if (disabled !== undefined) {
    return {
      reason: 'pooler_rejected',
      message: `${pgbouncer} has database ${JSON.stringify(disabled)} disabled`,
      fix: `run \`ENABLE ${disabled};\` on PgBouncer's admin console (psql -p <port> pgbouncer)`,
    };
  }
  const missingOnServer = /^database "(.*)" does not exist$/.exec(text)?.[1];
  if (missingOnServer !== undefined) {
    return {
      reason: 'database_missing',
      message: `the server behind ${pgbouncer} has no database ${JSON.stringify(missingOnServer)} (${text})`,
      fix: `create it on that server and run \`otel-pg-analytics migrate\`, or fix dbname= in the [databases] entry of pgbouncer.ini and RELOAD`,
    };
  }
  // Its own login checks (auth_file, auth_query, auth_hba_file), then the server's, relayed.
  if (/authentication failed$|^no such user|^not allowed$|^cannot do (MD5|SCRAM) authentication/.test(text)) {
    return {
      reason: 'auth_failed',
      message: `${pgbouncer} refused the login of ${user} (${text})`,
      fix: "check the user name and password in the connection string against PgBouncer's auth_file (userlist.txt) or auth_query, auth_type and auth_hba_file in pgbouncer.ini, and RELOAD after changing them",
    };
  }
  if (/^password authentication failed for user|^role ".*" does not exist|pg_hba\.conf/.test(text)) {
    return {
      reason: 'auth_failed',
      message: `the server behind ${pgbouncer} refused PgBouncer's login (${text})`,
      fix: 'check the user and password PgBouncer logs in with (the [databases] entry, auth_file or auth_user in pgbouncer.ini) and pg_hba.conf on the server, then RELOAD',
    };
  }
  if (BUSY.some((pattern) => pattern.test(text))) {
    return {
      reason: 'server_busy',
      message: `${pgbouncer} cannot serve the connection now (${text})`,
      fix: "check that PostgreSQL behind PgBouncer is up and reachable from it (PgBouncer's log says why not), and that default_pool_size, max_db_connections and max_client_conn fit every client's pool",
    };
  }
  return undefined;
}

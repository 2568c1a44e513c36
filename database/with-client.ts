import pg from 'pg';
import { classifyConnectionError } from './classify-connection-error.js';
import { connectClient } from './connect-client.js';
import { ConnectionFailedError } from './connection-failed-error.js';
import type { ConnectionConfig, DatabaseConnection } from './database-connection.js';
import { clientConfigOf, type PgClientConfig } from './pg-client-config.js';

/**
 * Runs `fn` with a client of `connection`, and always gives the client back: a client of its
 * own (from a connection string or {@link ConnectionConfig}) is ended, one checked out of a
 * pool is released (destroyed if `fn` failed, since its session may be left in any state). A
 * client of its own connects as libpq would: `sslmode` and `sslrootcert` with libpq's meanings
 * ({@link clientConfigOf}). A failure to connect is thrown as the driver raised it, or
 * explained (see {@link ConnectionConfig.explainConnectionErrors}).
 *
 * ```ts
 * const tables = await withClient(url, async (client) => (await client.query('select 1')).rows);
 * ```
 */
export async function withClient<T>(
  connection: DatabaseConnection,
  fn: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  if (typeof connection === 'string') {
    return withClient({ connectionString: connection, applicationName: 'otel-pg-analytics' }, fn);
  }
  // Structural rather than `instanceof`: the app's pool may come from its own copy of pg.
  if (!('connectionString' in connection)) return withPoolClient(connection, fn);
  const config = connection;
  const clientConfig = pgConfigOf(config);
  const created = createClient(config, clientConfig);
  // A connection lost between statements is an 'error' event, which would crash the process
  // without a listener; the statement that was running fails with the same error anyway.
  created.on('error', () => {});
  let client: pg.Client;
  try {
    client = await connectClient(clientConfig, created);
  } catch (error) {
    if (!config.explainConnectionErrors) throw error;
    const target = {
      host: created.host,
      port: created.port,
      database: created.database ?? '',
      user: created.user ?? '',
      tls: { mode: clientConfig.tls.mode, rootCert: clientConfig.tls.rootCert },
    };
    throw new ConnectionFailedError(
      classifyConnectionError(error, target, config.connectionTimeoutMillis ?? 0),
      { cause: error },
    );
  }
  // The client of libpq's second attempt (prefer, allow) needs the same listener.
  if (client !== created) client.on('error', () => {});
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The pg config of `config`; a TLS setting libpq would refuse is explained like an unreadable string. */
function pgConfigOf(config: ConnectionConfig): PgClientConfig & pg.ClientConfig {
  let tls: PgClientConfig;
  try {
    tls = clientConfigOf(config.connectionString);
  } catch (error) {
    if (!config.explainConnectionErrors) throw error;
    throw new ConnectionFailedError(
      {
        reason: 'invalid_connection_string',
        message: error instanceof Error ? error.message : String(error),
        fix: 'fix the TLS parameters of the connection string (or PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY)',
      },
      { cause: error },
    );
  }
  return {
    ...tls,
    application_name: config.applicationName,
    // pg treats a key set to undefined differently from a missing one (connect_timeout).
    ...(config.connectionTimeoutMillis !== undefined && {
      connectionTimeoutMillis: config.connectionTimeoutMillis,
    }),
    // No statement_timeout here: a startup parameter PgBouncer refuses. withTransaction sets it
    // for its transaction (and createKysely per statement).
    ...(config.queryTimeoutMillis !== undefined && { query_timeout: config.queryTimeoutMillis }),
  };
}

function createClient(config: ConnectionConfig, clientConfig: pg.ClientConfig): pg.Client {
  try {
    return new pg.Client(clientConfig);
  } catch (error) {
    if (!config.explainConnectionErrors) throw error;
    throw new ConnectionFailedError(
      {
        reason: 'invalid_connection_string',
        message: `not a connection string pg can read (${error instanceof Error ? error.message : String(error)})`,
        fix: 'write it as postgres://user:password@host:port/database',
      },
      { cause: error },
    );
  }
}

async function withPoolClient<T>(pool: pg.Pool, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = true;
  try {
    const result = await fn(client);
    failed = false;
    return result;
  } finally {
    client.release(failed);
  }
}

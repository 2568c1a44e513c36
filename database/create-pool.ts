import type pg from 'pg';
import type { DiagLogger } from '@opentelemetry/api';
import { describeError } from '../src/support/diag.js';
import { clientConfigOf } from './pg-client-config.js';
import { TlsFallbackPool } from './tls-fallback-pool.js';

/** Settings of the exporter's own pool. */
export interface ExporterPoolOptions {
  connectionString: string;
  max: number;
  statementTimeoutMillis: number;
  connectionTimeoutMillis: number;
}

/**
 * The exporter's own small pool, separate from the app's connections. `allowExitOnIdle` lets
 * an app that would exit naturally do so; the `'error'` listeners keep a connection lost to a
 * database restart or a cut network from crashing the host (an unhandled `'error'` event would).
 * It connects as libpq would ({@link clientConfigOf}, {@link TlsFallbackPool}).
 */
export function createPool(options: ExporterPoolOptions, logger: DiagLogger): pg.Pool {
  const pool = new TlsFallbackPool({
    ...clientConfigOf(options.connectionString),
    max: options.max,
    allowExitOnIdle: true,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    // No statement_timeout startup parameter (PgBouncer refuses it): each statement sets it for
    // its own transaction (OwnPool). That cannot end a statement on a connection the network
    // black-holed: the client gives up too, a little later.
    query_timeout: options.statementTimeoutMillis + 1000,
    keepAlive: true,
    application_name: 'otel-pg-analytics',
  });
  pool.on('error', (error) => {
    logger.debug(`idle database connection lost: ${describeError(error)}`);
  });
  // The pool listens for errors only on idle clients; a connection reset while a client is
  // checked out, connecting, or being ended by a pool already closing would be an unhandled
  // 'error' event: it would crash the app. Every client gets a listener of its own.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.debug(`database connection lost: ${describeError(error)}`));
  });
  return pool;
}

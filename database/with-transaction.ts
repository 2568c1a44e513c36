import type pg from 'pg';
import type { DatabaseConnection } from './database-connection.js';
import { setLocalStatementTimeout } from './local-statement-timeout.js';
import { withClient } from './with-client.js';

/** How {@link withTransaction} begins. */
export interface TransactionOptions {
  /** Defaults to the server's (`read committed` unless configured otherwise). */
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable';
  /** A read-only transaction: the server refuses any write in it. */
  readOnly?: boolean;
}

/**
 * {@link withClient} inside one transaction: committed when `fn` returns, rolled back when it
 * throws (the error is rethrown; a failed rollback is not reported over it). A
 * `statementTimeoutMillis` of a connection config holds for this transaction only: `set local`
 * goes in the message that begins it, so it costs no round trip and, through a pooler in
 * transaction mode, reaches no other client.
 *
 * ```ts
 * await withTransaction(url, async (client) => {
 *   await client.query('select pg_advisory_xact_lock(42)');
 * });
 * ```
 */
export async function withTransaction<T>(
  connection: DatabaseConnection,
  fn: (client: pg.ClientBase) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const timeout =
    typeof connection === 'object' && 'connectionString' in connection
      ? connection.statementTimeoutMillis
      : undefined;
  return withClient(connection, async (client) => {
    const begin = beginStatement(options);
    await client.query(timeout === undefined ? begin : `${begin}; ${setLocalStatementTimeout(timeout)}`);
    try {
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
  });
}

function beginStatement({ isolationLevel, readOnly }: TransactionOptions): string {
  if (isolationLevel === undefined && !readOnly) return 'begin';
  return [
    'begin transaction',
    ...(isolationLevel === undefined ? [] : [`isolation level ${isolationLevel}`]),
    ...(readOnly ? ['read only'] : []),
  ].join(' ');
}

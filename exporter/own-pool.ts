import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { classifyConnectionError, type ConnectionTarget } from '../database/classify-connection-error.js';
import { ConnectionFailedError } from '../database/connection-failed-error.js';
import { queryWithLocalTimeout } from '../database/local-statement-timeout.js';

/** What {@link OwnPool} needs to know besides the pool. */
export interface OwnPoolOptions {
  /** Each statement's server-side limit, set for its own transaction. */
  statementTimeoutMillis: number;
  /** How long a connection attempt may take (for the message when it took too long). */
  connectionTimeoutMillis: number;
}

/**
 * The exporter's own pool, as the writer uses it:
 *
 * - {@link connect} explains a connection that could not be made (a {@link ConnectionFailedError}
 *   with the reason and the fix, see `classifyConnectionError`): a refused login, a missing
 *   database or a startup parameter a pooler rejects are fixed by an operator, and since no row
 *   can cause them, the rows wait (in the spool) rather than being dropped.
 * - {@link kyselyPool} is the pool as Kysely takes it, every statement sent with its
 *   `statement_timeout` for its own transaction (`queryWithLocalTimeout`: no extra round trip,
 *   and nothing left on a server connection a pooler in transaction mode lends to others).
 */
export class OwnPool {
  readonly #pool: pg.Pool;
  readonly #options: OwnPoolOptions;
  readonly kyselyPool: PostgresPool;

  constructor(pool: pg.Pool, options: OwnPoolOptions) {
    this.#pool = pool;
    this.#options = { ...options };
    this.kyselyPool = {
      connect: async () => this.#lend(await this.connect()),
      end: () => this.#pool.end(),
      options: {},
    };
  }

  /** A client of the pool, or a {@link ConnectionFailedError} saying why there is none. */
  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (error) {
      // The pool explains TLS failures itself: it alone knows the sslmode.
      if (error instanceof ConnectionFailedError) throw error;
      const failure = classifyConnectionError(error, this.#target(), this.#options.connectionTimeoutMillis);
      throw new ConnectionFailedError(failure, { cause: error });
    }
  }

  #lend(client: pg.PoolClient): PostgresPoolClient {
    const timeout = this.#options.statementTimeoutMillis;
    return {
      query: ((text: string, values: readonly unknown[]) =>
        queryWithLocalTimeout(client, text, values, timeout)) as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  }

  /** Where the pool connects, as pg reads its options (never the password); made when needed. */
  #target(): ConnectionTarget {
    try {
      const { host, port, database, user } = new pg.Client(this.#pool.options);
      return { host, port, database: database ?? '', user: user ?? '' };
    } catch {
      return { host: 'the database', port: 0, database: '', user: '' };
    }
  }
}

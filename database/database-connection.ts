import type pg from 'pg';

/** A connection of its own, opened for one command and closed when it is done. */
export interface ConnectionConfig {
  connectionString: string;
  /** Shown in `pg_stat_activity`, so an operator sees which command a session belongs to. */
  applicationName: string;
  /** How long to wait for the server to accept the connection; without it, as long as it takes. */
  connectionTimeoutMillis?: number;
  /**
   * The server ends each statement of a `withTransaction` that runs longer
   * (`statement_timeout`, set for that transaction only; never sent at connect time, which a
   * pooler such as PgBouncer refuses). Statements outside a transaction: `createKysely`'s
   * `statementTimeoutMillis`.
   */
  statementTimeoutMillis?: number;
  /** The client gives up on a statement after this long, even if the server never answers. */
  queryTimeoutMillis?: number;
  /**
   * Turn a connection string `pg` cannot read, or a failed connection attempt, into a
   * {@link ConnectionFailedError} that says why and what to do; without it the driver's own
   * error is thrown, unchanged.
   */
  explainConnectionErrors?: boolean;
}

/**
 * Where {@link withClient} gets its client: a connection string or {@link ConnectionConfig}
 * (a client of its own, ended afterwards), or a pool (a client checked out, then released).
 */
export type DatabaseConnection = string | ConnectionConfig | pg.Pool;

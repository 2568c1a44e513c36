import { context, type DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { raceTimeout } from '../src/support/race-timeout.js';
import { createPool } from '../database/create-pool.js';
import { OwnPool } from './own-pool.js';
import type { ResolvedPostgresSpanExporterConfig } from './postgres-span-exporter-config.js';

/** The options {@link LazyDatabase} reads. */
export type LazyDatabaseConfig = Pick<
  ResolvedPostgresSpanExporterConfig,
  'pool' | 'connectionString' | 'maxPoolSize' | 'statementTimeoutMillis' | 'connectionTimeoutMillis'
>;

/**
 * The exporter's connection to Postgres, opened on first use: the supplied pool, or a small
 * pool of its own ({@link OwnPool}: each statement carries the statement timeout, a failed
 * connection is explained; also used for COPY, and ended at close). After a connection
 * failure its own pool is replaced: its connections may be half-open (a cut network keeps a
 * socket that answers nothing), and a fresh pool starts clean. A supplied pool is the
 * caller's: never replaced nor ended.
 */
export class LazyDatabase {
  readonly #config: LazyDatabaseConfig;
  readonly #logger: DiagLogger;
  #db: Kysely<unknown> | undefined;
  #pool: OwnPool | undefined;

  constructor(config: LazyDatabaseConfig, logger: DiagLogger) {
    this.#config = config;
    this.#logger = logger;
  }

  /** The database, opened now if it is not yet. */
  get(): Kysely<unknown> {
    if (!this.#db) {
      const supplied = this.#config.pool;
      this.#db = new Kysely<unknown>({
        dialect: new PostgresDialect({
          pool: supplied
            ? () => Promise.resolve((typeof supplied === 'function' ? supplied() : supplied) as never)
            : (this.#pool = this.#createPool()).kyselyPool,
        }),
      });
    }
    return this.#db;
  }

  /** The database if it is open, without opening it. */
  get current(): Kysely<unknown> | undefined {
    return this.#db;
  }

  /** The exporter's own pool, for COPY, once opened; `undefined` with a supplied pool. */
  get ownPool(): OwnPool | undefined {
    return this.#pool;
  }

  #createPool(): OwnPool {
    const { statementTimeoutMillis, connectionTimeoutMillis } = this.#config;
    const pool = createPool(
      {
        connectionString: this.#config.connectionString!,
        max: this.#config.maxPoolSize,
        statementTimeoutMillis,
        connectionTimeoutMillis,
      },
      this.#logger,
    );
    return new OwnPool(pool, { statementTimeoutMillis, connectionTimeoutMillis });
  }

  /** After a connection failure: our own pool is closed, and the next use opens a fresh one. */
  reset(): void {
    if (this.#config.pool !== undefined || !this.#db) return;
    const db = this.#db;
    this.#db = undefined;
    this.#pool = undefined;
    void db.destroy().catch(() => undefined);
  }

  /** Whether Postgres answers a `select 1`; if not, the pool is {@link reset}. */
  async isReachable(): Promise<boolean> {
    try {
      await context.with(suppressTracing(context.active()), () => sql`select 1`.execute(this.get()));
      return true;
    } catch {
      this.reset();
      return false;
    }
  }

  /** Ends our own pool, waiting for it until `deadline` (or at least 100 ms). */
  async close(deadline: number): Promise<void> {
    if (!this.#db || this.#config.pool !== undefined) return;
    const db = this.#db;
    this.#db = undefined;
    await raceTimeout(db.destroy(), Math.max(100, deadline - Date.now()));
  }
}

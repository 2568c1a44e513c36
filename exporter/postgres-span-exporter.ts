import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { Kysely, PostgresDialect } from 'kysely';
import { createLogger, describeError } from '../src/internal/diag.js';
import { maskUrlPassword, Redactor } from '../src/internal/redactor.js';
import type { ExportResultLike, ReadableSpanLike, SpanExporterLike } from '../src/span-types.js';
import { classifyDatabaseError, type DatabaseErrorClass } from './classify-database-error.js';
import { createPool } from './create-pool.js';
import type { TableName, TableRow } from './database.js';
import {
  resolvePostgresSpanExporterConfig,
  type PostgresSpanExporterConfig,
  type ResolvedPostgresSpanExporterConfig,
} from './postgres-span-exporter-config.js';
import { spanToRow } from './span-to-row.js';
import { writeBatch } from './write-batch.js';

/** `ExportResultCode` of `@opentelemetry/core`, without importing a trace SDK. */
const SUCCESS = 0;
const FAILED = 1;

/** What the exporter has done since it started. */
export interface ExporterStats {
  /** Rows waiting to be written now. */
  queuedRows: number;
  /** Rows written (or already present: a retried batch counts again). */
  exportedRows: number;
  /** Write attempts repeated after a retryable failure. */
  retries: number;
  /** Rows given up on, by reason (`queue_full`, `database_unavailable`, `schema_missing`, ...). */
  droppedRows: Record<string, number>;
}

/**
 * Writes spans to the `api_access_log`, `authentication_log` and `external_api_call_log`
 * tables, one INSERT per table per batch.
 *
 * `export()` maps spans to rows (a pure step), takes them into a bounded queue and
 * acknowledges at once; a single writer drains the queue behind that acknowledgement, so
 * delivery does not depend on the BatchSpanProcessor (which never retries and stops waiting
 * after its export timeout). The writer retries connection failures with backoff and jitter
 * up to `retryDeadlineMillis`, isolates rows PostgreSQL rejects by halving the batch, and
 * counts every row it gives up on, by reason. Nothing it does throws into the caller.
 *
 * The pool is created on the first export, so constructing the exporter opens no connection.
 *
 * ```ts
 * const exporter = new PostgresSpanExporter({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export class PostgresSpanExporter implements SpanExporterLike {
  readonly #config: ResolvedPostgresSpanExporterConfig;
  readonly #redactor: Redactor;
  readonly #logger = createLogger('exporter');
  readonly #queue: TableRow[] = [];
  readonly #stats: ExporterStats = { queuedRows: 0, exportedRows: 0, retries: 0, droppedRows: {} };
  readonly #warned = new Set<string>();
  #db: Kysely<unknown> | undefined;
  #draining: Promise<void> | undefined;
  #outageSince: number | undefined;
  #stopDeadline: number | undefined;
  #isShutdown = false;
  #shutdownPromise: Promise<void> | undefined;

  constructor(config: PostgresSpanExporterConfig) {
    this.#config = resolvePostgresSpanExporterConfig(config);
    this.#redactor = new Redactor({ extraKeys: this.#config.redactKeys });
  }

  export(spans: ReadableSpanLike[], resultCallback: (result: ExportResultLike) => void): void {
    if (this.#isShutdown) {
      resultCallback({ code: FAILED, error: new Error('PostgresSpanExporter is shut down') });
      return;
    }
    try {
      for (const span of spans) this.#enqueue(span);
    } catch (error) {
      this.#logger.error(`could not queue spans: ${describeError(error)}`);
    }
    resultCallback({ code: SUCCESS });
    this.#drain();
  }

  /** Resolves when every row queued so far has been written or given up on. */
  async forceFlush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /**
   * Writes what is queued (for at most `shutdownTimeoutMillis`), then closes the pool.
   * Rows still queued at the deadline are counted as dropped (`shutdown_timeout`).
   */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown();
    return this.#shutdownPromise;
  }

  /** Counters since start; see {@link ExporterStats}. */
  getStats(): ExporterStats {
    return {
      ...this.#stats,
      queuedRows: this.#queue.length,
      droppedRows: { ...this.#stats.droppedRows },
    };
  }

  async #shutdown(): Promise<void> {
    this.#isShutdown = true;
    this.#stopDeadline = Date.now() + this.#config.shutdownTimeoutMillis;
    const timedOut = await withTimeout(this.forceFlush(), this.#config.shutdownTimeoutMillis);
    if (timedOut || this.#queue.length > 0) {
      this.#drop(
        this.#queue.splice(0).length,
        'shutdown_timeout',
        'rows still queued at shutdown were dropped',
      );
    }
    if (this.#db && this.#config.pool === undefined) {
      const db = this.#db;
      this.#db = undefined;
      await withTimeout(
        db.destroy().catch(() => undefined),
        this.#config.shutdownTimeoutMillis,
      );
    }
  }

  #enqueue(span: ReadableSpanLike): void {
    let row: TableRow | undefined;
    try {
      row = spanToRow(span, this.#redactor);
    } catch (error) {
      this.#drop(1, 'mapping_error', `a span could not be mapped to a row (${describeError(error)})`);
      return;
    }
    if (!row) return;
    if (this.#queue.length >= this.#config.maxQueueRows) {
      this.#drop(
        1,
        'queue_full',
        `the queue is full (${this.#config.maxQueueRows} rows): Postgres is not keeping up`,
      );
      return;
    }
    this.#queue.push(row);
  }

  #drain(): void {
    if (this.#draining || this.#queue.length === 0) return;
    // The writer must never trace itself, also when it runs outside the export call.
    this.#draining = context.with(suppressTracing(context.active()), () => this.#drainQueue());
    void this.#draining.finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0 && !this.#isShutdownComplete()) this.#drain();
    });
  }

  #isShutdownComplete(): boolean {
    return this.#isShutdown && this.#stopDeadline !== undefined && Date.now() > this.#stopDeadline;
  }

  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#config.maxBatchRows);
        const byTable = new Map<TableName, object[]>();
        for (const { table, row } of batch) {
          const rows = byTable.get(table);
          if (rows) rows.push(row);
          else byTable.set(table, [row]);
        }
        for (const [table, rows] of byTable) await this.#write(table, rows);
      }
    } catch (error) {
      // #write handles database errors; this is a bug guard so the writer never rejects.
      this.#logger.error(`the writer stopped unexpectedly: ${describeError(error)}`);
    }
  }

  /** Writes rows with retries; on a data error, halves the batch until the bad row is alone. */
  async #write(table: TableName, rows: object[]): Promise<void> {
    const deadline = Date.now() + this.#config.retryDeadlineMillis;
    let delay = this.#config.initialRetryDelayMillis;
    for (;;) {
      let failure: DatabaseErrorClass;
      try {
        await writeBatch(this.#database(), table, rows);
        this.#stats.exportedRows += rows.length;
        this.#recovered();
        return;
      } catch (error) {
        failure = classifyDatabaseError(error, table);
      }
      if (failure.kind === 'retry') {
        this.#noteOutage(failure);
        const wait = jitter(delay);
        const stopBy = Math.min(deadline, this.#stopDeadline ?? Number.POSITIVE_INFINITY);
        if (Date.now() + wait < stopBy) {
          this.#stats.retries++;
          // While shutting down, the wait keeps the process alive (bounded by the shutdown
          // deadline) so the final rows are not lost; otherwise it never holds the app open.
          await sleep(wait, this.#stopDeadline !== undefined);
          delay = Math.min(delay * 2, this.#config.maxRetryDelayMillis);
          continue;
        }
        this.#drop(
          rows.length,
          failure.reason,
          `Postgres stayed unavailable past the retry deadline (${failure.message})`,
        );
        return;
      }
      if (failure.kind === 'data') {
        if (rows.length === 1) {
          this.#drop(1, failure.reason, `Postgres rejected a row of ${table} (${failure.message})`);
          return;
        }
        const middle = Math.ceil(rows.length / 2);
        await this.#write(table, rows.slice(0, middle));
        await this.#write(table, rows.slice(middle));
        return;
      }
      this.#drop(rows.length, failure.reason, failure.message);
      return;
    }
  }

  #database(): Kysely<unknown> {
    if (!this.#db) {
      const supplied = this.#config.pool;
      this.#db = new Kysely<unknown>({
        dialect: new PostgresDialect({
          pool: supplied
            ? () => Promise.resolve((typeof supplied === 'function' ? supplied() : supplied) as never)
            : createPool(
                {
                  connectionString: this.#config.connectionString!,
                  max: this.#config.maxPoolSize,
                  statementTimeoutMillis: this.#config.statementTimeoutMillis,
                  connectionTimeoutMillis: this.#config.connectionTimeoutMillis,
                },
                this.#logger,
              ),
        }),
      });
    }
    return this.#db;
  }

  #noteOutage(failure: DatabaseErrorClass): void {
    if (this.#outageSince !== undefined) return;
    this.#outageSince = Date.now();
    const target = this.#config.connectionString
      ? ` at ${maskUrlPassword(this.#config.connectionString)}`
      : '';
    this.#logger.warn(
      `cannot write to Postgres${target} (${failure.message}); rows are kept (up to ${this.#config.maxQueueRows}) and retried`,
    );
  }

  #recovered(): void {
    if (this.#outageSince === undefined && this.#warned.size === 0) return;
    if (this.#outageSince !== undefined) {
      const seconds = ((Date.now() - this.#outageSince) / 1000).toFixed(1);
      this.#logger.info(`Postgres is reachable again after ${seconds}s`);
    }
    this.#outageSince = undefined;
    this.#warned.clear();
  }

  /** Counts dropped rows; warns once per reason until writes succeed again. */
  #drop(count: number, reason: string, message: string): void {
    if (count === 0) return;
    this.#stats.droppedRows[reason] = (this.#stats.droppedRows[reason] ?? 0) + count;
    if (this.#warned.has(reason)) return;
    this.#warned.add(reason);
    this.#logger.warn(`${message}; ${count} row(s) dropped (further drops counted in getStats())`);
  }
}

function jitter(delay: number): number {
  return Math.round(delay * (0.5 + Math.random() * 0.5));
}

function sleep(millis: number, keepAlive: boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, millis);
    if (!keepAlive) timer.unref();
  });
}

/** Resolves `true` when `millis` pass before `promise` settles. */
async function withTimeout(promise: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), millis);
    timer.unref();
  });
  try {
    return await Promise.race([
      promise.then(
        () => false,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

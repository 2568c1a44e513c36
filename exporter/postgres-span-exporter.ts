import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { Kysely, PostgresDialect } from 'kysely';
import { createLogger, describeError } from '../src/internal/diag.js';
import { raceTimeout } from '../src/internal/race-timeout.js';
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
  /** When each drop reason was last reported, and how many rows it dropped since. */
  readonly #reported = new Map<string, { at: number; since: number }>();
  /** Rows taken into the queue, and rows written or given up on since: flushes wait on these. */
  #queuedTotal = 0;
  #settledTotal = 0;
  readonly #flushWaiters: { target: number; resolve: () => void }[] = [];
  #db: Kysely<unknown> | undefined;
  #draining: Promise<void> | undefined;
  #outageSince: number | undefined;
  #stopDeadline: number | undefined;
  #isShutdown = false;
  #closed = false;
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

  /**
   * Resolves when every row queued before the call has been written or given up on (rows
   * queued later do not hold it up). Bounded by the retry deadline while Postgres is down.
   */
  forceFlush(): Promise<void> {
    const target = this.#queuedTotal;
    if (this.#settledTotal >= target) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ target, resolve }));
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
    await raceTimeout(this.forceFlush(), this.#config.shutdownTimeoutMillis);
    this.#closed = true;
    const left = this.#queue.splice(0).length;
    this.#drop(left, 'shutdown_timeout', 'rows still queued at the shutdown deadline were dropped');
    this.#settle(left);
    if (this.#db && this.#config.pool === undefined) {
      const db = this.#db;
      this.#db = undefined;
      await raceTimeout(db.destroy(), this.#config.shutdownTimeoutMillis);
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
    this.#queuedTotal++;
  }

  #drain(): void {
    if (this.#draining || this.#queue.length === 0) return;
    // The writer must never trace itself, also when it runs outside the export call.
    this.#draining = context.with(suppressTracing(context.active()), () => this.#drainQueue());
    void this.#draining.finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0 && !this.#closed) this.#drain();
    });
  }

  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue.splice(0, this.#config.maxBatchRows);
        const byTable = new Map<TableName, object[]>();
        for (const { table, row } of batch) {
          const rows = byTable.get(table);
          if (rows) rows.push(row);
          else byTable.set(table, [row]);
        }
        for (const [table, rows] of byTable) {
          await this.#write(table, rows, { dataFailures: bisectionBudget(rows.length) });
          this.#settle(rows.length);
        }
      }
    } catch (error) {
      // #write handles database errors; this is a bug guard so the writer never rejects.
      this.#logger.error(`the writer stopped unexpectedly: ${describeError(error)}`);
    }
  }

  /**
   * Writes rows, retrying while Postgres is unavailable (until the outage is older than the
   * retry deadline: batches behind the first do not each wait the whole deadline again). On a
   * data error, halves the batch until the rejected row is alone, within a budget of failed
   * statements, so a batch in which every row fails costs a few statements, not 2n.
   */
  async #write(table: TableName, rows: object[], budget: { dataFailures: number }): Promise<void> {
    let delay = this.#config.initialRetryDelayMillis;
    for (;;) {
      if (this.#closed) {
        this.#drop(
          rows.length,
          'shutdown_timeout',
          'rows still being written at the shutdown deadline were dropped',
        );
        return;
      }
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
        const stopBy = Math.min(
          (this.#outageSince ?? Date.now()) + this.#config.retryDeadlineMillis,
          this.#stopDeadline ?? Number.POSITIVE_INFINITY,
        );
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
        budget.dataFailures--;
        if (rows.length === 1 || budget.dataFailures <= 0) {
          this.#drop(rows.length, failure.reason, `Postgres rejected rows of ${table} (${failure.message})`);
          return;
        }
        const middle = Math.ceil(rows.length / 2);
        await this.#write(table, rows.slice(0, middle), budget);
        await this.#write(table, rows.slice(middle), budget);
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

  /** Rows written or given up on: wakes the flushes waiting for them. */
  #settle(count: number): void {
    this.#settledTotal += count;
    for (let i = this.#flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.#flushWaiters[i]!;
      if (waiter.target > this.#settledTotal) continue;
      this.#flushWaiters.splice(i, 1);
      waiter.resolve();
    }
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
    if (this.#outageSince === undefined) return;
    const seconds = ((Date.now() - this.#outageSince) / 1000).toFixed(1);
    this.#logger.info(`Postgres is reachable again after ${seconds}s`);
    this.#outageSince = undefined;
  }

  /**
   * Counts dropped rows by reason; reports a reason once, then at most once a minute with the
   * rows dropped since, so a persistent problem cannot flood the log.
   */
  #drop(count: number, reason: string, message: string): void {
    if (count === 0) return;
    this.#stats.droppedRows[reason] = (this.#stats.droppedRows[reason] ?? 0) + count;
    const now = Date.now();
    const last = this.#reported.get(reason);
    if (last && now - last.at < REPORT_INTERVAL_MILLIS) {
      last.since += count;
      return;
    }
    const total = count + (last?.since ?? 0);
    this.#reported.set(reason, { at: now, since: 0 });
    this.#logger.warn(`${message}; ${total} row(s) dropped (all drops are counted in getStats())`);
  }
}

/** A dropped-rows reason is reported at most this often. */
const REPORT_INTERVAL_MILLIS = 60_000;

/** Failed statements allowed while isolating rejected rows: enough for a few bad rows. */
function bisectionBudget(rows: number): number {
  return 4 * Math.ceil(Math.log2(rows + 1)) + 4;
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

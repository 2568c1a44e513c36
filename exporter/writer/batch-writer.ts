import type { PipelineStats } from '../../src/pipeline-stats.js';
import type { TableName } from '../../database/analytics-database.js';
import { classifyDatabaseError, type DatabaseErrorClass } from '../classify-database-error.js';
import { copyBatch } from './copy-batch.js';
import type { DropLedger } from '../drop-ledger.js';
import { jitter } from '../jitter.js';
import type { LazyDatabase } from '../lazy-database.js';
import type { OutageMode } from '../outage-mode.js';
import type { ResolvedPostgresSpanExporterConfig } from '../postgres-span-exporter-config.js';
import { writeBatch } from './write-batch.js';

/** The options {@link BatchWriter} reads. */
export type BatchWriterConfig = Pick<
  ResolvedPostgresSpanExporterConfig,
  'initialRetryDelayMillis' | 'maxRetryDelayMillis' | 'retryDeadlineMillis' | 'statementTimeoutMillis'
>;

/** The objects a {@link BatchWriter} works with. */
export interface BatchWriterParts {
  database: LazyDatabase;
  outage: OutageMode;
  ledger: DropLedger;
  /** Counts `exportedRows`, `replayedRows`, `retries` and `lastError` here. */
  stats: PipelineStats;
  /** Whether rows kept out by a failure an operator fixes can wait in a spool (else dropped). */
  canSpool(): boolean;
  /** After each successful statement. */
  onWritten(): void;
  /** Awaited after the first successful statement, before that write resolves. */
  onFirstWrite(): Promise<void>;
}

/** How to write a batch. */
export interface WriteOptions {
  /** The rows come from the spool: written by INSERT, counted as replayed. */
  replay?: boolean;
  /** Try once, with no retry (a probe). */
  once?: boolean;
}

/**
 * How a write ended: `done` (written, or rejected or dropped and counted), `unavailable`
 * (Postgres cannot take the rows now: they are untouched, for the caller to spool or drop), or
 * `abandoned` (the writer was closed meanwhile; shutdown accounts for the rows).
 */
export type WriteResult =
  { outcome: 'done' } | { outcome: 'unavailable'; failure: DatabaseErrorClass } | { outcome: 'abandoned' };

const DONE: WriteResult = { outcome: 'done' };
const ABANDONED: WriteResult = { outcome: 'abandoned' };

/**
 * Failures an operator fixes (a missing table, a missing grant, a wrong password): with a
 * spool the rows wait there for the fix instead of being dropped.
 */
const FIXABLE_REASONS = new Set([
  'schema_missing',
  'schema_mismatch',
  'permission_denied',
  'connection_rejected',
  'tls_failed',
  'no_partition',
]);

/**
 * SQLSTATEs of a COPY that the INSERT fallback takes over: a duplicate key (rows written
 * already), and the internal error under which Citus passes on what a worker refused in a COPY
 * into a distributed table, a duplicate key included (the INSERT then gets the worker's own
 * SQLSTATE, so a rejected row is isolated as on one PostgreSQL).
 */
const COPY_FALLBACK_CODES: ReadonlySet<unknown> = new Set(['23505', 'XX000']);

/** One statement's worth of rows of a table, and how far the write may go. */
interface Attempt {
  replay: boolean;
  once: boolean;
  /** By COPY; a batch that failed once is isolated by INSERT. */
  copy: boolean;
  /** Failed statements left for isolating rejected rows, shared by the halves of a batch. */
  budget: { dataFailures: number };
}

/**
 * Writes one table's rows to Postgres. Fresh rows go by COPY (twice as fast), falling back to
 * INSERT ... ON CONFLICT DO NOTHING when the batch was written already; replays and the halves
 * of a batch that failed go by that INSERT, which takes rows written already in its stride.
 * Connection failures are retried with backoff and jitter until the outage is older than
 * `retryDeadlineMillis` (batches behind the first do not each wait the whole deadline again)
 * or the shutdown deadline comes. On a data error the batch is halved until the rejected row
 * is alone, within a budget of failed statements, so a batch in which every row fails costs a
 * few statements, not 2n. Every row given up on is counted in the {@link DropLedger}.
 */
export class BatchWriter {
  readonly #config: BatchWriterConfig;
  readonly #parts: BatchWriterParts;
  readonly #sleepers = new Set<() => void>();
  #firstWritten = false;
  #stopDeadline: number | undefined;
  #closed = false;

  constructor(config: BatchWriterConfig, parts: BatchWriterParts) {
    this.#config = config;
    this.#parts = parts;
  }

  /** Closed by shutdown: writes in progress are abandoned, their waits cut short. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes `rows` of `table`; never rejects. */
  write(table: TableName, rows: object[], options: WriteOptions = {}): Promise<WriteResult> {
    const budget = { dataFailures: bisectionBudget(rows.length) };
    return this.#write(table, rows, {
      replay: options.replay ?? false,
      once: options.once ?? false,
      copy: true,
      budget,
    });
  }

  /**
   * Shutdown has begun: no retry goes past `deadline`, and waits hold the process open (until
   * then) instead of letting it exit under them.
   */
  stopBy(deadline: number): void {
    this.#stopDeadline = deadline;
  }

  /** Abandons writes in progress and wakes their waits. */
  close(): void {
    this.#closed = true;
    for (const wake of [...this.#sleepers]) wake();
  }

  async #write(table: TableName, rows: object[], attempt: Attempt): Promise<WriteResult> {
    const { database, outage, stats } = this.#parts;
    let delay = this.#config.initialRetryDelayMillis;
    for (;;) {
      if (this.#closed) return ABANDONED;
      let failure: DatabaseErrorClass;
      try {
        const db = database.get();
        const pool = database.ownPool;
        if (!attempt.replay && attempt.copy && pool) {
          try {
            await copyBatch(pool, table, rows, this.#config.statementTimeoutMillis);
          } catch (error) {
            if (!COPY_FALLBACK_CODES.has((error as { code?: unknown }).code)) throw error;
            await writeBatch(db, table, rows);
          }
        } else {
          await writeBatch(db, table, rows);
        }
        if (attempt.replay) stats.replayedRows += rows.length;
        else stats.exportedRows += rows.length;
        outage.recovered();
        this.#parts.onWritten();
        if (!this.#firstWritten) {
          this.#firstWritten = true;
          await this.#parts.onFirstWrite();
        }
        return DONE;
      } catch (error) {
        failure = classifyDatabaseError(error, table);
        stats.lastError = failure.message;
      }
      if (this.#closed) return ABANDONED;
      if (failure.kind === 'retry') {
        outage.note(failure);
        database.reset();
        const wait = jitter(delay);
        const stopBy = Math.min(
          (outage.since ?? Date.now()) + this.#config.retryDeadlineMillis,
          this.#stopDeadline ?? Number.POSITIVE_INFINITY,
        );
        if (!attempt.once && Date.now() + wait < stopBy) {
          stats.retries++;
          await this.#sleep(wait);
          delay = Math.min(delay * 2, this.#config.maxRetryDelayMillis);
          continue;
        }
        return { outcome: 'unavailable', failure };
      }
      if (failure.kind === 'data') return this.#isolate(table, rows, attempt, failure);
      if (FIXABLE_REASONS.has(failure.reason) && this.#parts.canSpool()) {
        // The rows go straight to the spool, and startSpooling says so: one message, not two.
        outage.note(failure, { quiet: true });
        return { outcome: 'unavailable', failure };
      }
      this.#parts.ledger.drop(rows.length, failure.reason, failure.message);
      return DONE;
    }
  }

  /** Halves a batch Postgres rejected, until the rejected rows are alone or the budget is spent. */
  async #isolate(
    table: TableName,
    rows: object[],
    attempt: Attempt,
    failure: DatabaseErrorClass,
  ): Promise<WriteResult> {
    attempt.budget.dataFailures--;
    if (rows.length === 1 || attempt.budget.dataFailures <= 0) {
      this.#parts.ledger.reject(
        rows.length,
        failure.reason,
        `Postgres rejected rows of ${table} (${failure.message})`,
      );
      return DONE;
    }
    const middle = Math.ceil(rows.length / 2);
    const halves: Attempt = { ...attempt, copy: false };
    for (const half of [rows.slice(0, middle), rows.slice(middle)]) {
      const result = await this.#write(table, half, halves);
      // The first half is written (or rejected) already; writing it again is harmless.
      if (result.outcome !== 'done') return result;
    }
    return DONE;
  }

  /** Waits, unless the writer closes first; the timer holds the process only while it shuts down. */
  #sleep(millis: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, millis);
      if (this.#stopDeadline === undefined) timer.unref();
      this.#sleepers.add(wake);
    });
  }
}

/** Failed statements allowed while isolating rejected rows: enough for a few bad rows. */
function bisectionBudget(rows: number): number {
  return 4 * Math.ceil(Math.log2(rows + 1)) + 4;
}

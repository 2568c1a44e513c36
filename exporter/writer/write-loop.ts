import { context, type DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { describeError } from '../../src/support/diag.js';
import type { TableRow } from '../../database/analytics-database.js';
import type { BatchWriter } from './batch-writer.js';
import type { DatabaseErrorClass } from '../classify-database-error.js';
import type { DropLedger } from '../drop-ledger.js';
import { groupByTable } from '../group-by-table.js';
import type { LazyDatabase } from '../lazy-database.js';
import { unavailableMessage, type OutageMode } from '../outage-mode.js';
import type { ResolvedPostgresSpanExporterConfig } from '../postgres-span-exporter-config.js';
import type { RowQueue } from '../row-queue.js';
import type { SpoolChannel } from '../spool-channel.js';

/** The objects a {@link WriteLoop} works with. */
export interface WriteLoopParts {
  queue: RowQueue;
  writer: BatchWriter;
  outage: OutageMode;
  /** Resolves once the spool is open, or known to be absent. */
  spoolReady: Promise<SpoolChannel | undefined>;
  /** The spool, once it is open. */
  spool(): SpoolChannel | undefined;
  database: LazyDatabase;
  ledger: DropLedger;
  logger: DiagLogger;
}

/**
 * The single writer behind `export()`'s acknowledgement: one run at a time, under
 * `suppressTracing` so the exporter never traces itself. Each turn it writes the next batch
 * of the queue (its tables side by side), then the oldest spool segment. While the
 * {@link OutageMode} is spooling, batches go to the spool instead, and the loop runs the
 * probes that find Postgres back. It stops when there is nothing it can do now, and runs
 * again when rows, a probe or leftovers of an earlier run come.
 */
export class WriteLoop {
  readonly #config: Pick<ResolvedPostgresSpanExporterConfig, 'maxBatchRows'>;
  readonly #parts: WriteLoopParts;
  #running: Promise<void> | undefined;
  readonly #idleWaiters: (() => void)[] = [];
  /** The batch the writer holds, taken from the queue. */
  #inFlight: TableRow[] | undefined;

  constructor(config: Pick<ResolvedPostgresSpanExporterConfig, 'maxBatchRows'>, parts: WriteLoopParts) {
    this.#config = config;
    this.#parts = parts;
  }

  /** Rows the writer holds now. */
  get inFlightRows(): number {
    return this.#inFlight?.length ?? 0;
  }

  /** Starts a run, unless one is under way or the writer is closed. */
  drain(): void {
    if (this.#running || this.#parts.writer.closed) return;
    this.#running = context.with(suppressTracing(context.active()), () => this.#run());
    void this.#running.finally(() => {
      this.#running = undefined;
      if (!this.#parts.writer.closed && this.#hasWork()) this.drain();
      else for (const resolve of this.#idleWaiters.splice(0)) resolve();
    });
  }

  /** Resolves when the loop has nothing left it can do now. */
  whenIdle(): Promise<void> {
    if (!this.#running && !this.#hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** After the writer is closed: the rows it held and the rows queued, for the spool or the count. */
  takeUnwritten(): TableRow[] {
    const left = [...(this.#inFlight ?? []), ...this.#parts.queue.takeAll()];
    this.#inFlight = undefined;
    return left;
  }

  #hasWork(): boolean {
    if (this.#parts.queue.rowCount > 0) return true;
    if (this.#parts.outage.spooling) return this.#parts.outage.probeDue;
    return this.#parts.spool()?.hasPending() ?? false;
  }

  async #run(): Promise<void> {
    const { queue, writer, outage } = this.#parts;
    try {
      const spool = await this.#parts.spoolReady;
      while (!writer.closed) {
        if (outage.spooling) {
          if (queue.rowCount > 0 && spool) {
            const rows = queue.take(this.#config.maxBatchRows);
            await spool.spill(rows);
            queue.settle(rows.length);
            continue;
          }
          if (!outage.takeProbe()) return;
          if (await this.#probe(spool)) outage.endSpooling();
          else outage.scheduleProbe();
          continue;
        }
        let progressed = false;
        if (queue.rowCount > 0) {
          await this.#writeQueued(spool);
          progressed = true;
        }
        if (!outage.spooling && !writer.closed && spool?.hasPending()) {
          const result = await spool.replayNext(writer, { once: false });
          if (result.outcome === 'unavailable') outage.startSpooling(result.failure, spool.folder);
          progressed = true;
        }
        if (!progressed) return;
      }
    } catch (error) {
      // The writer handles database errors; this is a bug guard so the loop never rejects.
      this.#parts.logger.error(`the writer stopped unexpectedly: ${describeError(error)}`);
    }
  }

  /** Writes the next batch of the queue; rows Postgres cannot take go to the spool, or are dropped. */
  async #writeQueued(spool: SpoolChannel | undefined): Promise<void> {
    const { queue, writer } = this.#parts;
    const batch = queue.take(this.#config.maxBatchRows);
    this.#inFlight = batch;
    // The tables of a batch are written side by side (the pool has connections for that): the
    // small auth and call statements do not wait behind the API one.
    const results = await Promise.all(
      [...groupByTable(batch)].map(async ([table, entries]) => {
        const rows = entries.map((entry) => entry.row);
        return { entries, result: await writer.write(table, rows) };
      }),
    );
    if (results.some(({ result }) => result.outcome === 'abandoned')) return;
    const unavailable: TableRow[] = [];
    let failure: DatabaseErrorClass | undefined;
    for (const { entries, result } of results) {
      if (result.outcome === 'unavailable') {
        unavailable.push(...entries);
        failure = result.failure;
      }
    }
    this.#inFlight = undefined;
    if (failure) {
      if (spool) {
        this.#parts.outage.startSpooling(failure, spool.folder);
        await spool.spill(unavailable);
      } else {
        this.#parts.ledger.drop(unavailable.length, failure.reason, unavailableMessage(failure));
      }
    }
    queue.settle(batch.length);
  }

  /** Whether Postgres takes rows again: the oldest spooled rows are the probe, else `select 1`. */
  async #probe(spool: SpoolChannel | undefined): Promise<boolean> {
    if (spool?.hasPending()) {
      const replayed = await spool.replayNext(this.#parts.writer, { once: true });
      // Nothing was left to replay (what waited was refused): no answer from Postgres yet.
      if (replayed.outcome !== 'nothing') return replayed.outcome === 'done';
    }
    return this.#parts.database.isReachable();
  }
}

import type { DiagLogger } from '@opentelemetry/api';
import { describeError } from '../src/support/diag.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import type { TableRow } from '../database/analytics-database.js';
import type { DropLedger } from './drop-ledger.js';
import type { ResolvedPostgresSpanExporterConfig } from './postgres-span-exporter-config.js';

/** Spans mapped in one turn of the event loop: about a quarter of a millisecond of work. */
const MAP_SLICE_SPANS = 64;

/** What {@link RowQueue} needs besides its options. */
export interface RowQueueHooks {
  /** The row of a span, or `undefined` when it makes none; a throw drops the span (`mapping_error`). */
  toRow(span: ReadableSpanLike): TableRow | undefined;
  /** A row was queued with the queue half full or more (the spool may take what waits). */
  onHalfFull(): void;
  /** Rows are ready to write: everything handed over is mapped, or a statement's worth is. */
  onReady(): void;
  ledger: DropLedger;
  logger: DiagLogger;
}

/**
 * The exporter's bounded queue: spans handed over by `export()`, mapped to rows a slice at a
 * time on later turns of the event loop (mapping a whole batch at once held the app's
 * requests up for milliseconds), and the rows waiting to be written. Spans and rows together
 * are bounded by `maxQueueRows`; beyond, spans are dropped and counted (`queue_full`). It also
 * counts the rows it took and the rows settled since (written, spooled or given up on), so a
 * flush waits for exactly the rows queued before it.
 */
export class RowQueue {
  readonly #config: Pick<ResolvedPostgresSpanExporterConfig, 'maxQueueRows' | 'maxBatchRows'>;
  readonly #hooks: RowQueueHooks;
  readonly #halfFull: number;
  /** Spans handed over and not yet mapped. */
  readonly #pending: ReadableSpanLike[] = [];
  #rows: TableRow[] = [];
  #mapScheduled = false;
  /** Rows taken into the queue, and rows settled since: flushes wait on these. */
  #queuedTotal = 0;
  #settledTotal = 0;
  readonly #flushWaiters: { target: number; resolve: () => void }[] = [];

  constructor(
    config: Pick<ResolvedPostgresSpanExporterConfig, 'maxQueueRows' | 'maxBatchRows'>,
    hooks: RowQueueHooks,
  ) {
    this.#config = config;
    this.#hooks = hooks;
    this.#halfFull = Math.ceil(config.maxQueueRows / 2);
  }

  /** Spans and rows waiting in memory: what `maxQueueRows` bounds. */
  get waiting(): number {
    return this.#rows.length + this.#pending.length;
  }

  /** Rows mapped and waiting to be written. */
  get rowCount(): number {
    return this.#rows.length;
  }

  /** Takes spans to map on a later turn; those beyond `maxQueueRows` are dropped and counted. */
  add(spans: readonly ReadableSpanLike[]): void {
    const max = this.#config.maxQueueRows;
    for (const span of spans) {
      if (this.waiting >= max) {
        this.#hooks.ledger.drop(
          1,
          'queue_full',
          `the queue is full (${max} rows): Postgres is not keeping up`,
        );
      } else {
        this.#pending.push(span);
      }
    }
  }

  /** Maps the waiting spans on the next turns of the event loop, unless that is under way. */
  scheduleMapping(): void {
    if (this.#mapScheduled || this.#pending.length === 0) return;
    this.#mapScheduled = true;
    setImmediate(this.#mapSlice);
  }

  /** Maps every waiting span now (a flush, a shutdown). */
  mapAll(): void {
    this.#map(this.#pending.length);
  }

  /** Takes up to `count` rows, oldest first. */
  take(count: number): TableRow[] {
    return this.#rows.splice(0, count);
  }

  /** Takes every row. */
  takeAll(): TableRow[] {
    const rows = this.#rows;
    this.#rows = [];
    return rows;
  }

  /** Rows taken were written, spooled or given up on: wakes the flushes waiting for them. */
  settle(count: number): void {
    this.#settledTotal += count;
    for (let i = this.#flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.#flushWaiters[i]!;
      if (waiter.target > this.#settledTotal) continue;
      this.#flushWaiters.splice(i, 1);
      waiter.resolve();
    }
  }

  /** Resolves when every row queued so far is settled (rows queued later do not hold it up). */
  whenSettled(): Promise<void> {
    const target = this.#queuedTotal;
    if (this.#settledTotal >= target) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ target, resolve }));
  }

  /** Maps the next slice of waiting spans, then lets the app run before the next one. */
  readonly #mapSlice = (): void => {
    this.#map(MAP_SLICE_SPANS);
    if (this.#pending.length > 0) setImmediate(this.#mapSlice);
    else this.#mapScheduled = false;
    // Written once the batch is mapped (or a statement's worth is), not from its first slice:
    // a COPY per 64 rows cost more per row, in the app and in Postgres, than one per batch.
    if (this.#pending.length === 0 || this.#rows.length >= this.#config.maxBatchRows) this.#hooks.onReady();
  };

  #map(limit: number): void {
    const spans = this.#pending.splice(0, Math.min(limit, this.#pending.length));
    try {
      for (const span of spans) this.#enqueue(span);
    } catch (error) {
      this.#hooks.logger.error(`could not queue spans: ${describeError(error)}`);
    }
  }

  #enqueue(span: ReadableSpanLike): void {
    let row: TableRow | undefined;
    try {
      row = this.#hooks.toRow(span);
    } catch (error) {
      this.#hooks.ledger.drop(
        1,
        'mapping_error',
        `a span could not be mapped to a row (${describeError(error)})`,
      );
      return;
    }
    if (!row) return;
    this.#rows.push(row);
    this.#queuedTotal++;
    if (this.#rows.length >= this.#halfFull) this.#hooks.onHalfFull();
  }
}

import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { createLogger, describeError } from '../src/internal/diag.js';
import { raceTimeout } from '../src/internal/race-timeout.js';
import { createRedactor } from '../src/internal/create-redactor.js';
import type { Redactor } from '../src/internal/redactor.js';
import type { PipelineStats } from '../src/pipeline-stats.js';
import type { ExportResultLike, ReadableSpanLike, SpanExporterLike } from '../src/span-types.js';
import type { DatabaseErrorClass } from './classify-database-error.js';
import type { TableName, TableRow } from '../database/analytics-database.js';
import {
  resolvePostgresSpanExporterConfig,
  type PostgresSpanExporterConfig,
  type ResolvedPostgresSpanExporterConfig,
} from './postgres-span-exporter-config.js';
import { checkConnectedRole } from './check-connected-role.js';
import { LazyDatabase } from './lazy-database.js';
import { StatsRecorder } from './stats-recorder.js';
import { DropLedger } from './drop-ledger.js';
import { BatchWriter } from './batch-writer.js';
import { OutageMode, unavailableMessage } from './outage-mode.js';
import { Spool } from './spool/spool.js';
import { spoolTarget } from './spool/spool-target.js';
import { spanToRow } from './span-to-row.js';
import { UnroutedEndpointGuard } from './unrouted-endpoint-guard.js';

/** `ExportResultCode` of `@opentelemetry/core`, without importing a trace SDK. */
const SUCCESS = 0;
const FAILED = 1;

/** What the exporter has done since it started; see {@link PipelineStats}. */
export type ExporterStats = PipelineStats;

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
 * With a `spoolDir`, rows Postgres cannot take go to a bounded on-disk {@link Spool} instead
 * of being dropped: when it stays down past the retry deadline (then every batch goes there
 * until a probe finds it back), when the queue is half full, and at shutdown. The
 * spool is replayed, in order, once Postgres is back, and by the next process after a crash;
 * inserts are idempotent (`ON CONFLICT DO NOTHING` on `(span_id, time)`), so a replayed row is
 * never doubled.
 *
 * The pool is created on the first export (or to replay a spool left by an earlier run), so
 * constructing the exporter opens no connection otherwise.
 *
 * ```ts
 * const exporter = new PostgresSpanExporter({ connectionString: process.env.DATABASE_URL, spoolDir: '/var/spool/app' });
 * ```
 */
export class PostgresSpanExporter implements SpanExporterLike {
  readonly #config: ResolvedPostgresSpanExporterConfig;
  readonly #redactor: Redactor;
  /** Bounds the distinct endpoints of unrouted requests: state across rows, so it lives here. */
  readonly #endpoints = new UnroutedEndpointGuard();
  readonly #logger = createLogger('exporter');
  readonly #queue: TableRow[] = [];
  readonly #stats: PipelineStats = {
    queuedRows: 0,
    spoolBytes: 0,
    exportedRows: 0,
    retries: 0,
    spooledRows: 0,
    replayedRows: 0,
    droppedRows: {},
    rejectedRows: {},
  };
  readonly #ledger = new DropLedger(this.#stats, this.#logger);
  /** Rows taken into the queue, and rows written, spooled or given up on since: flushes wait on these. */
  #queuedTotal = 0;
  #settledTotal = 0;
  readonly #flushWaiters: { target: number; resolve: () => void }[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  readonly #database: LazyDatabase;
  readonly #recorder: StatsRecorder;
  #draining: Promise<void> | undefined;
  /** The batch the writer holds, taken from the queue. */
  #inFlight: TableRow[] | undefined;
  readonly #outage: OutageMode;
  readonly #writer: BatchWriter;
  readonly #spoolReady: Promise<Spool | undefined>;
  #spool: Spool | undefined;
  #spilling: Promise<void> | undefined;
  #isShutdown = false;
  #closed = false;
  /** Spans handed over by export() and not yet mapped (they count against maxQueueRows). */
  readonly #pending: ReadableSpanLike[] = [];
  #mapScheduled = false;
  #shutdownPromise: Promise<void> | undefined;

  constructor(config: PostgresSpanExporterConfig) {
    this.#config = resolvePostgresSpanExporterConfig(config);
    this.#redactor = createRedactor(this.#config);
    this.#database = new LazyDatabase(this.#config, this.#logger);
    this.#outage = new OutageMode(this.#config, {
      hasSpool: () => this.#spool !== undefined,
      onProbeDue: () => this.#drain(),
      logger: this.#logger,
    });
    this.#writer = new BatchWriter(this.#config, {
      database: this.#database,
      outage: this.#outage,
      ledger: this.#ledger,
      stats: this.#stats,
      canSpool: () => this.#spool !== undefined,
      onWritten: () => this.#recorder.sayTableMissing(),
      onFirstWrite: () => checkConnectedRole(this.#database.get(), this.#logger),
    });
    this.#recorder = new StatsRecorder(this.#config, {
      database: () => (this.#outage.spooling ? undefined : this.#database.current),
      stats: () => this.getStats(),
      logger: this.#logger,
    });
    this.#spoolReady = this.#openSpool();
  }

  export(spans: ReadableSpanLike[], resultCallback: (result: ExportResultLike) => void): void {
    if (this.#isShutdown) {
      resultCallback({ code: FAILED, error: new Error('PostgresSpanExporter is shut down') });
      return;
    }
    // Spans are mapped to rows a slice at a time on later turns of the event loop: mapping a
    // whole batch (512 spans by default) at once held the app's requests up for milliseconds.
    const max = this.#config.maxQueueRows;
    for (const span of spans) {
      if (this.#waitingRows >= max) {
        this.#ledger.drop(1, 'queue_full', `the queue is full (${max} rows): Postgres is not keeping up`);
      } else {
        this.#pending.push(span);
      }
    }
    resultCallback({ code: SUCCESS });
    if (!this.#mapScheduled && this.#pending.length > 0) {
      this.#mapScheduled = true;
      setImmediate(() => this.#mapSlice());
    }
  }

  /** Maps the next slice of waiting spans, then lets the app run before the next one. */
  #mapSlice(): void {
    this.#mapPending(MAP_SLICE_SPANS);
    if (this.#pending.length > 0) setImmediate(() => this.#mapSlice());
    else this.#mapScheduled = false;
    // Written once the batch is mapped (or a statement's worth is), not from its first slice:
    // a COPY per 64 rows cost more per row, in the app and in Postgres, than one per batch.
    if (this.#pending.length === 0 || this.#queue.length >= this.#config.maxBatchRows) this.#drain();
  }

  /** Maps up to `limit` waiting spans into queued rows. */
  #mapPending(limit = Number.POSITIVE_INFINITY): void {
    const spans = this.#pending.splice(0, Math.min(limit, this.#pending.length));
    try {
      for (const span of spans) this.#enqueue(span);
    } catch (error) {
      this.#logger.error(`could not queue spans: ${describeError(error)}`);
    }
  }

  /**
   * Resolves when every row queued before the call has been written, spooled or given up on
   * (rows queued later do not hold it up). Bounded by the retry deadline while Postgres is down.
   */
  forceFlush(): Promise<void> {
    this.#mapPending();
    this.#drain();
    const target = this.#queuedTotal;
    if (this.#settledTotal >= target) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ target, resolve }));
  }

  /**
   * Writes what is queued and replays the spool while Postgres takes them, for at most
   * `shutdownTimeoutMillis`; what is left then goes to the spool (or, without one, is counted
   * as dropped, `shutdown_timeout`). Then closes the spool and the pool.
   */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown();
    return this.#shutdownPromise;
  }

  /**
   * Whether `rows` more rows would be taken now rather than dropped: not after shutdown, not
   * when the queue cannot hold them, and not while Postgres is away and the spool they would go
   * to is full. A receiver (the `ingest` command) answers "try later" then, so its sender keeps
   * them (an OpenTelemetry Collector's persistent queue) instead of this process dropping them.
   */
  hasRoomFor(rows: number): boolean {
    if (this.#isShutdown) return false;
    if (this.#waitingRows + rows > this.#config.maxQueueRows) return false;
    return !(this.#outage.spooling && this.#spool && this.#spool.bytes >= this.#config.maxSpoolBytes);
  }

  /** Rows waiting in memory, mapped or not: what maxQueueRows bounds. */
  get #waitingRows(): number {
    return this.#queue.length + this.#pending.length;
  }

  /** Counters since start; see {@link PipelineStats}. */
  getStats(): ExporterStats {
    return {
      ...this.#stats,
      queuedRows: this.#waitingRows + (this.#inFlight?.length ?? 0),
      spoolBytes: this.#spool?.bytes ?? 0,
      droppedRows: { ...this.#stats.droppedRows },
      rejectedRows: { ...this.#stats.rejectedRows },
    };
  }

  async #shutdown(): Promise<void> {
    this.#isShutdown = true;
    this.#mapPending();
    const deadline = Date.now() + this.#config.shutdownTimeoutMillis;
    const spool = await this.#spoolWithin(deadline);
    // Time kept at the end to put what is left into the spool.
    const reserve = spool ? Math.min(1000, Math.floor(this.#config.shutdownTimeoutMillis / 4)) : 0;
    const stopDeadline = deadline - reserve;
    this.#writer.stopBy(stopDeadline);
    // Postgres may be back: find out now rather than leave rows on disk for the next run.
    this.#outage.probeNow();
    this.#drain();
    await raceTimeout(this.#whenIdle(), stopDeadline - Date.now(), { keepAlive: true });
    this.#closed = true;
    this.#writer.close();
    this.#outage.close();
    this.#recorder.stop();
    if (this.#spilling) await raceTimeout(this.#spilling, deadline - Date.now(), { keepAlive: true });
    const left = [...(this.#inFlight ?? []), ...this.#queue.splice(0)];
    this.#inFlight = undefined;
    if (left.length > 0) {
      if (spool) {
        const timedOut = await raceTimeout(this.#spillRows(spool, left), Math.max(0, deadline - Date.now()), {
          keepAlive: true,
        });
        if (timedOut)
          this.#logger.warn(`${left.length} row(s) may not have reached the spool before the deadline`);
      } else {
        this.#ledger.drop(
          left.length,
          'shutdown_timeout',
          'rows still queued at the shutdown deadline were dropped',
        );
      }
      this.#settle(left.length);
    }
    if (!this.#outage.spooling && this.#database.current && Date.now() < deadline) {
      await raceTimeout(this.#recorder.record(true), Math.min(500, deadline - Date.now()), {
        keepAlive: true,
      });
    }
    if (spool) await raceTimeout(spool.close(), Math.max(0, deadline - Date.now()), { keepAlive: true });
    await this.#database.close(deadline);
  }

  #enqueue(span: ReadableSpanLike): void {
    let row: TableRow | undefined;
    try {
      row = spanToRow(span, this.#redactor, this.#endpoints);
    } catch (error) {
      this.#ledger.drop(1, 'mapping_error', `a span could not be mapped to a row (${describeError(error)})`);
      return;
    }
    if (!row) return;
    const max = this.#config.maxQueueRows;
    this.#queue.push(row);
    this.#queuedTotal++;
    // Half full: what waits goes to the spool, leaving the other half for rows that come while
    // it is written, so nothing is dropped while Postgres is slow or away.
    if (this.#spool && !this.#spilling && this.#queue.length >= Math.ceil(max / 2)) {
      const rows = this.#queue.splice(0);
      this.#spilling = this.#spillRows(this.#spool, rows)
        .then(() => this.#settle(rows.length))
        .finally(() => (this.#spilling = undefined));
    }
  }

  #drain(): void {
    if (this.#draining || this.#closed) return;
    // The writer must never trace itself, also when it runs outside the export call.
    this.#draining = context.with(suppressTracing(context.active()), () => this.#drainLoop());
    void this.#draining.finally(() => {
      this.#draining = undefined;
      if (!this.#closed && this.#hasWork()) this.#drain();
      else for (const resolve of this.#idleWaiters.splice(0)) resolve();
    });
  }

  #hasWork(): boolean {
    if (this.#queue.length > 0) return true;
    if (this.#outage.spooling) return this.#outage.probeDue;
    return this.#spool?.hasPending() ?? false;
  }

  /** Resolves when the writer has nothing left it can do now. */
  #whenIdle(): Promise<void> {
    if (!this.#draining && !this.#hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #drainLoop(): Promise<void> {
    try {
      const spool = await this.#spoolReady;
      while (!this.#closed) {
        if (this.#outage.spooling) {
          if (this.#queue.length > 0 && spool) {
            const rows = this.#queue.splice(0, this.#config.maxBatchRows);
            await this.#spillRows(spool, rows);
            this.#settle(rows.length);
            continue;
          }
          if (!this.#outage.takeProbe()) return;
          if (await this.#probe(spool)) this.#outage.endSpooling();
          else this.#outage.scheduleProbe();
          continue;
        }
        let progressed = false;
        if (this.#queue.length > 0) {
          await this.#writeQueued(spool);
          progressed = true;
        }
        if (!this.#outage.spooling && !this.#closed && spool?.hasPending()) {
          await this.#replayNext(spool, false);
          progressed = true;
        }
        if (!progressed) return;
      }
    } catch (error) {
      // #write handles database errors; this is a bug guard so the writer never rejects.
      this.#logger.error(`the writer stopped unexpectedly: ${describeError(error)}`);
    }
  }

  /** Writes the next batch of the queue; rows Postgres cannot take go to the spool, or are dropped. */
  async #writeQueued(spool: Spool | undefined): Promise<void> {
    const batch = this.#queue.splice(0, this.#config.maxBatchRows);
    this.#inFlight = batch;
    const unavailable: TableRow[] = [];
    let failure: DatabaseErrorClass | undefined;
    // The tables of a batch are written side by side (the pool has connections for that): the
    // small auth and call statements do not wait behind the API one.
    const results = await Promise.all(
      [...groupByTable(batch)].map(async ([table, entries]) => {
        const rows = entries.map((entry) => entry.row);
        return { entries, result: await this.#writer.write(table, rows) };
      }),
    );
    if (results.some(({ result }) => result.outcome === 'abandoned')) return;
    for (const { entries, result } of results) {
      if (result.outcome === 'unavailable') {
        unavailable.push(...entries);
        failure = result.failure;
      }
    }
    this.#inFlight = undefined;
    if (unavailable.length > 0) {
      if (spool) {
        this.#outage.startSpooling(failure!, spool.folder);
        await this.#spillRows(spool, unavailable);
      } else {
        this.#ledger.drop(unavailable.length, failure!.reason, unavailableMessage(failure!));
      }
    }
    this.#settle(batch.length);
  }

  /**
   * Writes the oldest spool segment; removes it when all its rows are written (or rejected).
   * Returns false when Postgres could not take them (the segment stays, for later), `'nothing'`
   * when no segment was left to replay.
   */
  async #replayNext(spool: Spool, once: boolean): Promise<boolean | 'nothing'> {
    const segment = await spool.nextSegment();
    if (!segment) return 'nothing';
    if (segment.corrupt > 0) {
      this.#ledger.drop(segment.corrupt, 'spool_corrupt', 'damaged spool records were skipped');
    }
    if (segment.truncated && segment.failedWrite !== undefined) {
      // Its row was counted (spool_error) when the write failed: not counted again.
      this.#logger.debug(`skipped the tail of a spool write that failed (${segment.failedWrite})`);
    } else if (segment.truncated) {
      this.#ledger.drop(
        1,
        'spool_truncated',
        'a spool record cut off at the end of a segment (by a crash, or a write that failed in an earlier run) was skipped',
      );
    }
    for (const [table, entries] of groupByTable(segment.entries)) {
      for (let i = 0; i < entries.length; i += this.#config.maxBatchRows) {
        const rows = entries.slice(i, i + this.#config.maxBatchRows).map((entry) => entry.row);
        const result = await this.#writer.write(table, rows, { replay: true, once });
        if (result.outcome === 'abandoned') return false;
        if (result.outcome === 'unavailable') {
          if (!once) this.#outage.startSpooling(result.failure, spool.folder);
          return false;
        }
      }
    }
    await segment.remove();
    return true;
  }

  /** Whether Postgres takes rows again: the oldest spooled rows are the probe, else `select 1`. */
  async #probe(spool: Spool | undefined): Promise<boolean> {
    if (spool?.hasPending()) {
      const replayed = await this.#replayNext(spool, true);
      // Nothing was left to replay (what waited was refused): no answer from Postgres yet.
      if (replayed !== 'nothing') return replayed;
    }
    return this.#database.isReachable();
  }

  /**
   * Appends rows to the spool; counts what it refuses (full) or what an I/O error kept off the
   * disk, and only that: rows written before the error are spooled, and replayed once.
   */
  async #spillRows(spool: Spool, entries: TableRow[]): Promise<void> {
    let result;
    try {
      result = await spool.append(entries);
    } catch (error) {
      this.#ledger.drop(
        entries.length,
        'spool_error',
        `the spool could not be written (${describeError(error)})`,
      );
      return;
    }
    const { written, refused, failed, error } = result;
    this.#stats.spooledRows += written;
    if (refused > 0) {
      this.#ledger.drop(refused, 'spool_full', `the spool is full (${this.#config.maxSpoolBytes} bytes)`);
    }
    if (failed > 0) {
      this.#ledger.drop(failed, 'spool_error', `the spool could not be written (${describeError(error)})`);
    }
  }

  async #openSpool(): Promise<Spool | undefined> {
    const directory = this.#config.spoolDir;
    if (directory === undefined) return undefined;
    try {
      this.#spool = await Spool.open({
        directory,
        target: spoolTarget(this.#config.connectionString),
        maxBytes: this.#config.maxSpoolBytes,
        onRefusedRows: (rows) =>
          this.#ledger.drop(
            rows,
            'spool_refused',
            'spooled rows were not replayed: their segment changed since it was written or adopted, so another user could have written it',
          ),
      });
    } catch (error) {
      this.#logger.warn(
        `the spool directory ${directory} cannot be used (${describeError(error)}): rows Postgres cannot take will be dropped`,
      );
      return undefined;
    }
    // Rows an earlier run left: replay them as soon as Postgres takes them.
    if (this.#spool.hasPending()) {
      this.#logger.info(`replaying ${this.#spool.bytes} spooled bytes left by an earlier run`);
      queueMicrotask(() => this.#drain());
    }
    return this.#spool;
  }

  async #spoolWithin(deadline: number): Promise<Spool | undefined> {
    let spool: Spool | undefined;
    await raceTimeout(
      this.#spoolReady.then((s) => (spool = s)),
      Math.max(0, deadline - Date.now()),
    );
    return spool;
  }

  /** Rows written, spooled or given up on: wakes the flushes waiting for them. */
  #settle(count: number): void {
    this.#settledTotal += count;
    for (let i = this.#flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.#flushWaiters[i]!;
      if (waiter.target > this.#settledTotal) continue;
      this.#flushWaiters.splice(i, 1);
      waiter.resolve();
    }
  }
}

/** Spans mapped in one turn of the event loop: about a quarter of a millisecond of work. */
const MAP_SLICE_SPANS = 64;

/** Rows by table, each table's in their order. */
function groupByTable(entries: readonly TableRow[]): Map<TableName, TableRow[]> {
  const byTable = new Map<TableName, TableRow[]>();
  for (const entry of entries) {
    const list = byTable.get(entry.table);
    if (list) list.push(entry);
    else byTable.set(entry.table, [entry]);
  }
  return byTable;
}

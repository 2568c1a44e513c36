import { BindOnceFuture } from '@opentelemetry/core';
import { createLogger } from '../src/support/diag.js';
import { raceTimeout } from '../src/support/race-timeout.js';
import { createRedactor } from '../src/privacy/create-redactor.js';
import type { PipelineStats } from '../src/pipeline-stats.js';
import type { ExportResultLike, ReadableSpanLike, SpanExporterLike } from '../src/span-types.js';
import { BatchWriter } from './writer/batch-writer.js';
import { checkConnectedRole } from './check-connected-role.js';
import { DropLedger } from './drop-ledger.js';
import { LazyDatabase } from './lazy-database.js';
import { OutageMode } from './outage-mode.js';
import {
  resolvePostgresSpanExporterConfig,
  type PostgresSpanExporterConfig,
  type ResolvedPostgresSpanExporterConfig,
} from './postgres-span-exporter-config.js';
import { RowQueue } from './row-queue.js';
import { spanToRow } from './span-to-row.js';
import { SpoolChannel } from './spool-channel.js';
import { StatsRecorder } from './stats-recorder.js';
import { UnroutedEndpointGuard } from './unrouted-endpoint-guard.js';
import { WriteLoop } from './writer/write-loop.js';

/** `ExportResultCode` of `@opentelemetry/core`, without importing a trace SDK. */
const SUCCESS = 0;
const FAILED = 1;

/** What the exporter has done since it started; see {@link PipelineStats}. */
export type ExporterStats = PipelineStats;

/**
 * Writes spans to the `api_access_log`, `authentication_log` and `external_api_call_log`
 * tables.
 *
 * `export()` takes spans into a bounded queue and acknowledges at once; a single writer drains
 * the queue behind that acknowledgement, so delivery does not depend on the BatchSpanProcessor
 * (which never retries and stops waiting after its export timeout). The writer retries
 * connection failures with backoff and jitter up to `retryDeadlineMillis`, isolates rows
 * PostgreSQL rejects by halving the batch, and counts every row it gives up on, by reason.
 * Nothing it does throws into the caller.
 *
 * With a `spoolDir`, rows Postgres cannot take go to a bounded on-disk spool instead of being
 * dropped: when it stays down past the retry deadline (then every batch goes there until a
 * probe finds it back), when the queue is half full, and at shutdown. The spool is replayed,
 * in order, once Postgres is back, and by the next process after a crash; inserts are
 * idempotent (`ON CONFLICT DO NOTHING` on `(span_id, time)`), so a replayed row is never
 * doubled. The pool is created on the first export (or to replay a spool left by an earlier
 * run), so constructing the exporter opens no connection otherwise.
 *
 * The exporter only wires and sequences a few objects, each with one job:
 *
 * ```text
 *  export(spans)
 *     │
 *     ▼
 *  RowQueue ───── spans → rows (spanToRow), 64 spans a turn; bounded by maxQueueRows
 *     │ rows             │ half full
 *     ▼                  ▼
 *  WriteLoop ◄──────► SpoolChannel ─── the on-disk Spool: rows in (refusals counted),
 *     │  spill while      segments out, oldest first
 *     │  spooling, replay
 *     ▼
 *  BatchWriter ────── COPY / INSERT, retry with backoff, bisection ──► LazyDatabase ──► Postgres
 *     │ failures
 *     ▼
 *  OutageMode ─────── away since when; past the retry deadline: spooling, and probes
 *
 *  DropLedger     every row given up on, counted by reason, reported once a minute at most
 *  StatsRecorder  a row of counters in analytics_pipeline_stats every statsIntervalMillis
 * ```
 *
 * Shutdown runs once (a `BindOnceFuture`), in steps bounded by `shutdownTimeoutMillis`.
 *
 * ```ts
 * const exporter = new PostgresSpanExporter({ connectionString: process.env.DATABASE_URL, spoolDir: '/var/spool/app' });
 * ```
 */
export class PostgresSpanExporter implements SpanExporterLike {
  readonly #config: ResolvedPostgresSpanExporterConfig;
  readonly #logger = createLogger('exporter');
  /** Counters; each part counts its own (see {@link PipelineStats}). */
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
  readonly #queue: RowQueue;
  readonly #database: LazyDatabase;
  readonly #outage: OutageMode;
  readonly #writer: BatchWriter;
  readonly #loop: WriteLoop;
  readonly #recorder: StatsRecorder;
  readonly #spoolReady: Promise<SpoolChannel | undefined>;
  #spool: SpoolChannel | undefined;
  readonly #shutdownOnce: BindOnceFuture<void> = new BindOnceFuture(this.#shutdown, this);

  constructor(config: PostgresSpanExporterConfig) {
    const resolved = (this.#config = resolvePostgresSpanExporterConfig(config));
    const ledger = this.#ledger;
    const logger = this.#logger;
    const stats = this.#stats;
    const redactor = createRedactor(resolved);
    // Bounds the distinct endpoints of unrouted requests: state across rows.
    const endpoints = new UnroutedEndpointGuard();
    this.#queue = new RowQueue(resolved, {
      toRow: (span) => spanToRow(span, redactor, endpoints),
      onHalfFull: () => this.#spool?.spillAside(this.#queue),
      onReady: () => this.#loop.drain(),
      ledger,
      logger,
    });
    this.#database = new LazyDatabase(resolved, logger);
    this.#outage = new OutageMode(resolved, {
      hasSpool: () => this.#spool !== undefined,
      onProbeDue: () => this.#loop.drain(),
      logger,
    });
    this.#writer = new BatchWriter(resolved, {
      database: this.#database,
      outage: this.#outage,
      ledger,
      stats,
      canSpool: () => this.#spool !== undefined,
      onWritten: () => this.#recorder.sayTableMissing(),
      // Awaited, so its warning comes before the first flush resolves.
      onFirstWrite: () => checkConnectedRole(this.#database.get(), logger),
    });
    this.#spoolReady = SpoolChannel.open(resolved, {
      ledger,
      stats,
      onLeftovers: () => queueMicrotask(() => this.#loop.drain()),
      logger,
    }).then((spool) => (this.#spool = spool));
    this.#loop = new WriteLoop(resolved, {
      queue: this.#queue,
      writer: this.#writer,
      outage: this.#outage,
      spoolReady: this.#spoolReady,
      spool: () => this.#spool,
      database: this.#database,
      ledger,
      logger,
    });
    this.#recorder = new StatsRecorder(resolved, {
      database: () => (this.#outage.spooling ? undefined : this.#database.current),
      stats: () => this.getStats(),
      logger,
    });
  }

  export(spans: ReadableSpanLike[], resultCallback: (result: ExportResultLike) => void): void {
    if (this.#shutdownOnce.isCalled) {
      resultCallback({ code: FAILED, error: new Error('PostgresSpanExporter is shut down') });
      return;
    }
    this.#queue.add(spans);
    resultCallback({ code: SUCCESS });
    this.#queue.scheduleMapping();
  }

  /**
   * Resolves when every row queued before the call has been written, spooled or given up on
   * (rows queued later do not hold it up). Bounded by the retry deadline while Postgres is down.
   */
  forceFlush(): Promise<void> {
    this.#queue.mapAll();
    this.#loop.drain();
    return this.#queue.whenSettled();
  }

  /**
   * Writes what is queued and replays the spool while Postgres takes them, for at most
   * `shutdownTimeoutMillis`; what is left then goes to the spool (or, without one, is counted
   * as dropped, `shutdown_timeout`). Then closes the spool and the pool. Runs once.
   */
  shutdown(): Promise<void> {
    return this.#shutdownOnce.call();
  }

  /**
   * Whether `rows` more rows would be taken now rather than dropped: not after shutdown, not
   * when the queue cannot hold them, and not while Postgres is away and the spool they would go
   * to is full. A receiver (the `ingest` command) answers "try later" then, so its sender keeps
   * them (an OpenTelemetry Collector's persistent queue) instead of this process dropping them.
   */
  hasRoomFor(rows: number): boolean {
    if (this.#shutdownOnce.isCalled) return false;
    if (this.#queue.waiting + rows > this.#config.maxQueueRows) return false;
    return !(this.#outage.spooling && this.#spool?.isFull);
  }

  /** Counters since start; see {@link PipelineStats}. */
  getStats(): ExporterStats {
    return {
      ...this.#stats,
      queuedRows: this.#queue.waiting + this.#loop.inFlightRows,
      spoolBytes: this.#spool?.bytes ?? 0,
      droppedRows: { ...this.#stats.droppedRows },
      rejectedRows: { ...this.#stats.rejectedRows },
    };
  }

  async #shutdown(): Promise<void> {
    this.#queue.mapAll();
    const deadline = Date.now() + this.#config.shutdownTimeoutMillis;
    const spool = await this.#spoolWithin(deadline);
    // Time kept at the end to put what is left into the spool.
    const reserve = spool ? Math.min(1000, Math.floor(this.#config.shutdownTimeoutMillis / 4)) : 0;
    const stopBy = deadline - reserve;
    this.#writer.stopBy(stopBy);
    // Postgres may be back: find out now rather than leave rows on disk for the next run.
    this.#outage.probeNow();
    this.#loop.drain();
    await raceTimeout(this.#loop.whenIdle(), stopBy - Date.now(), { keepAlive: true });
    this.#writer.close();
    this.#outage.close();
    this.#recorder.stop();
    const spilling = this.#spool?.spilling;
    if (spilling) await raceTimeout(spilling, deadline - Date.now(), { keepAlive: true });
    const left = this.#loop.takeUnwritten();
    if (left.length > 0) {
      if (spool) {
        const timedOut = await raceTimeout(spool.spill(left), Math.max(0, deadline - Date.now()), {
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
      this.#queue.settle(left.length);
    }
    if (!this.#outage.spooling && this.#database.current && Date.now() < deadline) {
      await raceTimeout(this.#recorder.record(true), Math.min(500, deadline - Date.now()), {
        keepAlive: true,
      });
    }
    if (spool) await raceTimeout(spool.close(), Math.max(0, deadline - Date.now()), { keepAlive: true });
    await this.#database.close(deadline);
  }

  /** The spool, if it opens before `deadline`. */
  async #spoolWithin(deadline: number): Promise<SpoolChannel | undefined> {
    let spool: SpoolChannel | undefined;
    await raceTimeout(
      this.#spoolReady.then((s) => (spool = s)),
      Math.max(0, deadline - Date.now()),
    );
    return spool;
  }
}

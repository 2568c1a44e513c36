import type { DiagLogger } from '@opentelemetry/api';
import { describeError } from '../src/support/diag.js';
import type { PipelineStats } from '../src/pipeline-stats.js';
import type { TableRow } from '../database/analytics-database.js';
import type { BatchWriter, WriteResult } from './writer/batch-writer.js';
import type { DropLedger } from './drop-ledger.js';
import { groupByTable } from './group-by-table.js';
import type { ResolvedPostgresSpanExporterConfig } from './postgres-span-exporter-config.js';
import { Spool } from './spool/spool.js';
import { spoolTarget } from './spool/spool-target.js';

/** The options {@link SpoolChannel} reads. */
export type SpoolChannelConfig = Pick<
  ResolvedPostgresSpanExporterConfig,
  'spoolDir' | 'connectionString' | 'maxSpoolBytes' | 'maxBatchRows'
>;

/** What {@link SpoolChannel} needs besides its options. */
export interface SpoolChannelHooks {
  ledger: DropLedger;
  /** Counts `spooledRows` here. */
  stats: PipelineStats;
  /** The spool holds rows an earlier run left: they should be replayed. */
  onLeftovers(): void;
  logger: DiagLogger;
}

/** How a replay ended: as a write, or `nothing` when no segment was left to replay. */
export type ReplayResult = WriteResult | { outcome: 'nothing' };

/**
 * The exporter's side of the on-disk {@link Spool}: rows go in with what the spool refuses
 * (full) or an I/O error kept off the disk counted as dropped, and come out, oldest segment
 * first, through the {@link BatchWriter}. Inserts are idempotent (`ON CONFLICT DO NOTHING`),
 * so a replayed row is never doubled.
 */
export class SpoolChannel {
  readonly #spool: Spool;
  readonly #config: SpoolChannelConfig;
  readonly #hooks: SpoolChannelHooks;
  #spilling: Promise<void> | undefined;

  private constructor(spool: Spool, config: SpoolChannelConfig, hooks: SpoolChannelHooks) {
    this.#spool = spool;
    this.#config = config;
    this.#hooks = hooks;
  }

  /**
   * Opens the spool in `spoolDir`, or resolves `undefined` without one, or when it cannot be
   * used (then rows Postgres cannot take are dropped, and a warning says so).
   */
  static async open(config: SpoolChannelConfig, hooks: SpoolChannelHooks): Promise<SpoolChannel | undefined> {
    const directory = config.spoolDir;
    if (directory === undefined) return undefined;
    let spool: Spool;
    try {
      spool = await Spool.open({
        directory,
        target: spoolTarget(config.connectionString),
        maxBytes: config.maxSpoolBytes,
        onRefusedRows: (rows) =>
          hooks.ledger.drop(
            rows,
            'spool_refused',
            'spooled rows were not replayed: their segment changed since it was written or adopted, so another user could have written it',
          ),
      });
    } catch (error) {
      hooks.logger.warn(
        `the spool directory ${directory} cannot be used (${describeError(error)}): rows Postgres cannot take will be dropped`,
      );
      return undefined;
    }
    // Rows an earlier run left: replay them as soon as Postgres takes them.
    if (spool.hasPending()) {
      hooks.logger.info(`replaying ${spool.bytes} spooled bytes left by an earlier run`);
      hooks.onLeftovers();
    }
    return new SpoolChannel(spool, config, hooks);
  }

  /** Bytes waiting on disk. */
  get bytes(): number {
    return this.#spool.bytes;
  }

  /** The spool holds `maxSpoolBytes`: rows spilled now would be refused. */
  get isFull(): boolean {
    return this.#spool.bytes >= this.#config.maxSpoolBytes;
  }

  /** Where the rows go (for messages). */
  get folder(): string {
    return this.#spool.folder;
  }

  /** A spill under way from a half-full queue, if any. */
  get spilling(): Promise<void> | undefined {
    return this.#spilling;
  }

  hasPending(): boolean {
    return this.#spool.hasPending();
  }

  /**
   * Appends rows; counts what the spool refuses or an I/O error kept off the disk, and only
   * that: rows written before the error are spooled, and replayed once.
   */
  async spill(entries: TableRow[]): Promise<void> {
    const { ledger, stats } = this.#hooks;
    let result;
    try {
      result = await this.#spool.append(entries);
    } catch (error) {
      ledger.drop(entries.length, 'spool_error', `the spool could not be written (${describeError(error)})`);
      return;
    }
    const { written, refused, failed, error } = result;
    stats.spooledRows += written;
    if (refused > 0) {
      ledger.drop(refused, 'spool_full', `the spool is full (${this.#config.maxSpoolBytes} bytes)`);
    }
    if (failed > 0) {
      ledger.drop(failed, 'spool_error', `the spool could not be written (${describeError(error)})`);
    }
  }

  /**
   * The queue is half full: what waits goes to the spool, leaving the other half for rows that
   * come while it is written, so nothing is dropped while Postgres is slow or away. One spill
   * at a time.
   */
  spillAside(queue: { takeAll(): TableRow[]; settle(count: number): void }): void {
    if (this.#spilling) return;
    const rows = queue.takeAll();
    this.#spilling = this.spill(rows)
      .then(() => queue.settle(rows.length))
      .finally(() => (this.#spilling = undefined));
  }

  /**
   * Writes the oldest segment through `writer`, `once` as a probe; removes the segment when all
   * its rows are written (or rejected). When Postgres cannot take them the segment stays, for
   * later.
   */
  async replayNext(writer: BatchWriter, { once }: { once: boolean }): Promise<ReplayResult> {
    const segment = await this.#spool.nextSegment();
    if (!segment) return { outcome: 'nothing' };
    const { ledger, logger } = this.#hooks;
    if (segment.corrupt > 0) {
      ledger.drop(segment.corrupt, 'spool_corrupt', 'damaged spool records were skipped');
    }
    if (segment.truncated && segment.failedWrite !== undefined) {
      // Its row was counted (spool_error) when the write failed: not counted again.
      logger.debug(`skipped the tail of a spool write that failed (${segment.failedWrite})`);
    } else if (segment.truncated) {
      ledger.drop(
        1,
        'spool_truncated',
        'a spool record cut off at the end of a segment (by a crash, or a write that failed in an earlier run) was skipped',
      );
    }
    const batchRows = this.#config.maxBatchRows;
    for (const [table, entries] of groupByTable(segment.entries)) {
      for (let i = 0; i < entries.length; i += batchRows) {
        const rows = entries.slice(i, i + batchRows).map((entry) => entry.row);
        const result = await writer.write(table, rows, { replay: true, once });
        if (result.outcome !== 'done') return result;
      }
    }
    await segment.remove();
    return { outcome: 'done' };
  }

  close(): Promise<void> {
    return this.#spool.close();
  }
}

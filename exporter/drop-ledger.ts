import type { DiagLogger } from '@opentelemetry/api';
import { RateLimitedReporter } from '../src/support/diag.js';
import type { PipelineStats } from '../src/pipeline-stats.js';

/** A reason is reported at most this often, with the rows counted since. */
const REPORT_INTERVAL_MILLIS = 60_000;

/**
 * Every row the exporter gives up on, counted by reason in the pipeline stats
 * (`droppedRows`, `rejectedRows`) and reported: once when a reason first comes, then at most
 * once a minute with the rows since, so a persistent problem cannot flood the log.
 */
export class DropLedger {
  readonly #stats: Pick<PipelineStats, 'droppedRows' | 'rejectedRows'>;
  readonly #logger: DiagLogger;
  readonly #reporter: RateLimitedReporter;

  constructor(stats: Pick<PipelineStats, 'droppedRows' | 'rejectedRows'>, logger: DiagLogger) {
    this.#stats = stats;
    this.#logger = logger;
    this.#reporter = new RateLimitedReporter(logger, REPORT_INTERVAL_MILLIS);
  }

  /** Rows given up on: counted under `reason`, and `message` says why. */
  drop(count: number, reason: string, message: string): void {
    if (count === 0) return;
    this.#stats.droppedRows[reason] = (this.#stats.droppedRows[reason] ?? 0) + count;
    this.#report(reason, count, message, 'dropped');
  }

  /** Rows PostgreSQL refused, isolated from a batch whose other rows were written. */
  reject(count: number, reason: string, message: string): void {
    this.#stats.rejectedRows[reason] = (this.#stats.rejectedRows[reason] ?? 0) + count;
    this.#report(`rejected:${reason}`, count, message, 'rejected (the rest of their batch was written)');
  }

  #report(key: string, count: number, message: string, outcome: string): void {
    const total = this.#reporter.tally(key, count);
    if (total === undefined) return;
    this.#logger.warn(`${message}; ${total} row(s) ${outcome} (all are counted in getStats())`);
  }
}

import type { DiagLogger } from '@opentelemetry/api';
import { maskUrlPassword } from '../src/privacy/redactor.js';
import type { DatabaseErrorClass } from './classify-database-error.js';
import { jitter } from './jitter.js';
import type { ResolvedPostgresSpanExporterConfig } from './postgres-span-exporter-config.js';

/** The options {@link OutageMode} reads. */
export type OutageModeConfig = Pick<
  ResolvedPostgresSpanExporterConfig,
  'connectionString' | 'maxQueueRows' | 'maxRetryDelayMillis'
>;

/** What {@link OutageMode} needs besides its options. */
export interface OutageModeHooks {
  /** Whether a spool is open: rows wait there after the queue (the warning says so). */
  hasSpool(): boolean;
  /** A probe fell due: the writer should run it. */
  onProbeDue(): void;
  logger: DiagLogger;
}

/**
 * When Postgres is away, and what to do with rows then. An outage starts at the first failed
 * write (writes retry until it is older than the retry deadline) and ends at the next success;
 * each says so once. Past the deadline, or on a failure an operator must fix, the exporter
 * goes *spooling*: every batch goes to the spool, and a probe every `maxRetryDelayMillis`
 * (jittered, `unref()`'d) asks whether Postgres takes rows again.
 */
export class OutageMode {
  readonly #config: OutageModeConfig;
  readonly #hooks: OutageModeHooks;
  #since: number | undefined;
  #spooling = false;
  #probeDue = false;
  #probeTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: OutageModeConfig, hooks: OutageModeHooks) {
    this.#config = config;
    this.#hooks = hooks;
  }

  /** When the current outage began (`Date.now()`), or `undefined` while Postgres answers. */
  get since(): number | undefined {
    return this.#since;
  }

  /** Postgres stayed away past the retry deadline (or needs fixing): batches go to the spool. */
  get spooling(): boolean {
    return this.#spooling;
  }

  /** While spooling: a probe is due. */
  get probeDue(): boolean {
    return this.#probeDue;
  }

  /** A write failed: starts the outage, and warns unless `quiet` (another message says it). */
  note(failure: DatabaseErrorClass, { quiet = false } = {}): void {
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    if (quiet) return;
    const target = this.#config.connectionString
      ? ` at ${maskUrlPassword(this.#config.connectionString)}`
      : '';
    this.#hooks.logger.warn(
      `cannot write to Postgres${target} (${failure.message}); rows are kept (up to ${this.#config.maxQueueRows}${this.#hooks.hasSpool() ? ' in memory, then in the spool' : ''}) and retried`,
    );
  }

  /** A write succeeded: ends the outage, if there was one. */
  recovered(): void {
    if (this.#since === undefined) return;
    const seconds = ((Date.now() - this.#since) / 1000).toFixed(1);
    this.#hooks.logger.info(`Postgres is reachable again after ${seconds}s`);
    this.#since = undefined;
  }

  /** Rows go to the spool in `folder` from now on, until a probe finds Postgres back. */
  startSpooling(failure: DatabaseErrorClass, folder: string): void {
    if (this.#spooling) return;
    this.#spooling = true;
    this.#hooks.logger.warn(
      `${unavailableMessage(failure)}; rows go to the spool (${folder}) and are written when it is back`,
    );
    this.scheduleProbe();
  }

  /** A probe found Postgres back. */
  endSpooling(): void {
    this.#spooling = false;
    this.#probeDue = false;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.recovered();
  }

  /** Takes the due probe: whether there was one. */
  takeProbe(): boolean {
    if (!this.#probeDue) return false;
    this.#probeDue = false;
    return true;
  }

  /** While spooling, makes a probe due now (at shutdown: Postgres may be back). */
  probeNow(): void {
    if (this.#spooling) this.#probeDue = true;
  }

  /** The next probe, after a jittered `maxRetryDelayMillis`. */
  scheduleProbe(): void {
    if (this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      this.#probeDue = true;
      this.#hooks.onProbeDue();
    }, jitter(this.#config.maxRetryDelayMillis));
    this.#probeTimer.unref();
  }

  /** No more probes. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }
}

/** What to say about rows Postgres could not take. */
export function unavailableMessage(failure: DatabaseErrorClass): string {
  return failure.kind === 'retry'
    ? `Postgres stayed unavailable past the retry deadline (${failure.message})`
    : failure.message;
}

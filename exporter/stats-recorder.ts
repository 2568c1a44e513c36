import os from 'node:os';
import { context, type DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Kysely } from 'kysely';
import type { PipelineStats } from '../src/pipeline-stats.js';
import { classifyDatabaseError } from './classify-database-error.js';
import type { ResolvedPostgresSpanExporterConfig } from './postgres-span-exporter-config.js';
import { writePipelineStats } from './write-pipeline-stats.js';

/** What {@link StatsRecorder} needs besides its options. */
export interface StatsRecorderSources {
  /** The database to write to now, or `undefined` to skip (not open yet, or Postgres is away). */
  database(): Kysely<unknown> | undefined;
  /** The counters to record. */
  stats(): PipelineStats;
  logger: DiagLogger;
}

/**
 * Writes a row of the exporter's counters to `analytics_pipeline_stats` every
 * `statsIntervalMillis` (an `unref()`'d timer) and a final one at shutdown, while Postgres is
 * reachable. Against a database without that table (migrated before it existed) it stops
 * trying, and says so once rows have landed.
 */
export class StatsRecorder {
  readonly #config: Pick<ResolvedPostgresSpanExporterConfig, 'statsIntervalMillis' | 'serviceName'>;
  readonly #sources: StatsRecorderSources;
  readonly #instance = {
    id: `${os.hostname()}/${process.pid}/${Date.now()}`,
    host: os.hostname(),
    startedAt: new Date(),
  };
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #tableMissing = false;
  #tableMissingUnsaid = false;

  constructor(
    config: Pick<ResolvedPostgresSpanExporterConfig, 'statsIntervalMillis' | 'serviceName'>,
    sources: StatsRecorderSources,
  ) {
    this.#config = config;
    this.#sources = sources;
    if (config.statsIntervalMillis > 0) {
      this.#timer = setInterval(() => void this.record(), config.statsIntervalMillis);
      this.#timer.unref();
    }
  }

  /** Writes a row of counters; `final` marks the last one, written as the exporter shuts down. */
  async record(final = false): Promise<void> {
    const db = this.#sources.database();
    if (this.#tableMissing || !db || (this.#stopped && !final)) return;
    try {
      await context.with(suppressTracing(context.active()), () =>
        writePipelineStats(db, {
          instanceId: this.#instance.id,
          host: this.#instance.host,
          pid: process.pid,
          startedAt: this.#instance.startedAt,
          serviceName: this.#config.serviceName,
          final,
          stats: this.#sources.stats(),
        }),
      );
    } catch (error) {
      // Writes overlap (the timer's and shutdown's): only the first to learn it arms the message.
      if (classifyDatabaseError(error).reason === 'schema_missing' && !this.#tableMissing) {
        this.#tableMissing = true;
        this.#tableMissingUnsaid = true;
        this.sayTableMissing();
      }
    }
  }

  /**
   * Called after rows are written: says the stats table is missing once rows have landed, so
   * the log tables exist (a version-1 database). With no schema at all, the warning about the
   * log tables already says to migrate, and one cause gets one message.
   */
  sayTableMissing(): void {
    if (!this.#tableMissingUnsaid) return;
    const stats = this.#sources.stats();
    if (stats.exportedRows + stats.replayedRows === 0) return;
    this.#tableMissingUnsaid = false;
    this.#sources.logger.info(
      'analytics_pipeline_stats does not exist: run `otel-pg-analytics migrate` to record pipeline health',
    );
  }

  /** Stops the timer; only the final row may be written after. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

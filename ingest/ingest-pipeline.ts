import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { AnalyticsConfig } from '../src/config.js';
import { ServiceCatalog } from '../src/pricing/service-catalog.js';
import { AnalyticsSpanProcessor } from '../src/processors/analytics-span-processor.js';
import type { ReadableSpanLike, SpanExporterLike, SpanProcessorLike } from '../src/span-types.js';
import { CallerFolder } from './caller-folder.js';

/** An exporter that can say whether it has room (as `PostgresSpanExporter` does). */
export interface IngestExporter extends SpanExporterLike {
  hasRoomFor(rows: number): boolean;
}

/** Options of {@link IngestPipeline}: the processor's options (sampling, exclusions, services, prices, redaction...) and the exporter. */
export interface IngestPipelineConfig extends AnalyticsConfig {
  exporter: IngestExporter;
}

/** What became of one batch of received spans. */
export type IngestOutcome =
  | { accepted: true; rows: number }
  /** The exporter has no room: nothing was taken; the sender should retry later. */
  | { accepted: false; rows: number };

/**
 * Puts received spans through the same {@link AnalyticsSpanProcessor} and exporter as
 * in-process spans: excluded paths and sampling thin API rows, external calls get their
 * service and cost from the catalog, the privacy and redaction options apply, and the rows go
 * to the exporter's queue. One received request is one batch, all or nothing: when the
 * exporter has no room for it, none of it is taken, so the sender's retry cannot double rows.
 * One row per HTTP attempt: a CLIENT span around attempts of its own call (an SDK's call span
 * around attempts to its host or provider) is no row, and completes them instead; one whose
 * attempts are all other calls (a token fetch) is a row ({@link CallerFolder}).
 */
export class IngestPipeline {
  readonly #processor: AnalyticsSpanProcessor;
  readonly #exporter: IngestExporter;
  readonly #callers: CallerFolder;
  /** Spans the processor kept during the current `submit` (it forwards synchronously). */
  #kept: ReadableSpanLike[] = [];

  constructor(config: IngestPipelineConfig) {
    const { exporter, ...options } = config;
    this.#exporter = exporter;
    const collector: SpanProcessorLike = {
      onStart: () => {},
      onEnd: (span) => this.#kept.push(span),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    // Spans arrive finished: nothing is held for a request still running (requestHoldMillis),
    // and no call stays open.
    this.#processor = new AnalyticsSpanProcessor({ ...options, spanProcessor: collector, exporter });
    // The processor's catalog, for the provider of an attempt (the options are checked by now).
    this.#callers = new CallerFolder(new ServiceCatalog(options.services));
  }

  /** Classifies, completes and queues the spans of one received request. */
  submit(spans: readonly ReadableSpanLike[]): IngestOutcome {
    this.#kept = [];
    const folded = this.#callers.fold(spans);
    for (const span of folded.spans) {
      // onStart first: it is where excluded paths are decided for a request.
      this.#processor.onStart(span as Parameters<AnalyticsSpanProcessor['onStart']>[0], ROOT_CONTEXT);
      this.#processor.onEnd(span);
    }
    const kept = this.#kept;
    this.#kept = [];
    if (kept.length > 0 && !this.#exporter.hasRoomFor(kept.length)) {
      // The memory of callers stays as it was: the sender's retry of this batch folds the same.
      return { accepted: false, rows: kept.length };
    }
    folded.commit();
    if (kept.length === 0) return { accepted: true, rows: 0 };
    this.#exporter.export(kept, () => {});
    return { accepted: true, rows: kept.length };
  }

  /** Writes what is queued (or spools it), within the exporter's shutdown deadline. */
  async shutdown(): Promise<void> {
    await this.#processor.shutdown();
    await this.#exporter.shutdown();
  }
}

import type { PipelineStats } from '../pipeline-stats.js';
import { Redactor } from './redactor.js';

/** The pipeline the register entry started, as the helpers need it. */
export interface ActivePipeline {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** The exporter's counters, when it keeps them. */
  getStats(): PipelineStats | undefined;
}

const KEY = Symbol.for('otel-pg-analytics.pipeline');
const REDACTOR_KEY = Symbol.for('otel-pg-analytics.redactor');
const DEFAULT_REDACTOR = new Redactor();

type Holder = { [KEY]?: ActivePipeline | undefined; [REDACTOR_KEY]?: Redactor | undefined };

/** Kept on `globalThis` so the app's import of the package finds what the register started. */
export function setActivePipeline(pipeline: ActivePipeline | undefined): void {
  (globalThis as Holder)[KEY] = pipeline;
}

export function getActivePipeline(): ActivePipeline | undefined {
  return (globalThis as Holder)[KEY];
}

/**
 * Makes `redactor` the policy the helpers use (`recordAuthEvent`, framework errors). An
 * `AnalyticsSpanProcessor` sets its own, so composed setups redact with their `redactKeys` too.
 */
export function setActiveRedactor(redactor: Redactor): void {
  (globalThis as Holder)[REDACTOR_KEY] = redactor;
}

/** The redaction policy in force: the processor's, else the defaults. */
export function activeRedactor(): Redactor {
  return (globalThis as Holder)[REDACTOR_KEY] ?? DEFAULT_REDACTOR;
}

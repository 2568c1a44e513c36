import { Redactor } from './redactor.js';

/** The pipeline the register entry started, as the helpers need it. */
export interface ActivePipeline {
  readonly redactor: Redactor;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const KEY = Symbol.for('otel-pg-analytics.pipeline');
const DEFAULT_REDACTOR = new Redactor();

type Holder = { [KEY]?: ActivePipeline | undefined };

/** Kept on `globalThis` so the app's import of the package finds what the register started. */
export function setActivePipeline(pipeline: ActivePipeline | undefined): void {
  (globalThis as Holder)[KEY] = pipeline;
}

export function getActivePipeline(): ActivePipeline | undefined {
  return (globalThis as Holder)[KEY];
}

/** The redaction policy in force: the started pipeline's, else the defaults. */
export function activeRedactor(): Redactor {
  return getActivePipeline()?.redactor ?? DEFAULT_REDACTOR;
}

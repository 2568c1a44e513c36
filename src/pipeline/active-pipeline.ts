import type { PipelineStats } from '../pipeline-stats.js';
import { DEFAULT_PRIVACY_POLICY, type PrivacyPolicy } from '../privacy/privacy-policy.js';
import { Redactor } from '../privacy/redactor.js';

/** The pipeline the register entry started, as the helpers need it. */
export interface ActivePipeline {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** The exporter's counters, when it keeps them. */
  getStats(): PipelineStats | undefined;
}

const KEY = Symbol.for('otel-pg-analytics.pipeline');
const REDACTOR_KEY = Symbol.for('otel-pg-analytics.redactor');
const PRIVACY_KEY = Symbol.for('otel-pg-analytics.privacy');
const DEFAULT_REDACTOR = new Redactor();

type Holder = {
  [KEY]?: ActivePipeline | undefined;
  [REDACTOR_KEY]?: Redactor | undefined;
  [PRIVACY_KEY]?: PrivacyPolicy | undefined;
};

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

/** Makes `policy` the privacy options the helpers apply (`setUser`, `runAsUser`, `recordAuthEvent`). */
export function setActivePrivacy(policy: PrivacyPolicy): void {
  (globalThis as Holder)[PRIVACY_KEY] = policy;
}

/** The privacy options in force: the processor's, else the defaults. */
export function activePrivacy(): PrivacyPolicy {
  return (globalThis as Holder)[PRIVACY_KEY] ?? DEFAULT_PRIVACY_POLICY;
}

import { ANALYTICS_OPTIONS } from './config/analytics-options.js';
import { envNamesOf } from './config/option-spec.js';

/** A snapshot of the environment variables this package reads. */
export type EnvSnapshot = Readonly<Record<string, string | undefined>>;

/** Every variable of these families, options or not (`OTEL_ANALYTICS_CONFIG`, `OTEL_LOG_LEVEL`). */
const PREFIXES = ['OTEL_', 'ANALYTICS_'];
/** What the options read besides those: `DATABASE_URL`, and `HOME` and `XDG_STATE_HOME`, which place the default spool directory. */
const NAMES = new Set(envNamesOf(ANALYTICS_OPTIONS));

/**
 * The only place that reads `process.env`. Everything else receives the snapshot, so
 * configuration can be resolved (and tested) without touching the real environment.
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvSnapshot {
  const snapshot: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (NAMES.has(name) || PREFIXES.some((p) => name.startsWith(p))) snapshot[name] = value;
  }
  return Object.freeze(snapshot);
}

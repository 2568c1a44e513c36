/** A snapshot of the environment variables this package reads. */
export type EnvSnapshot = Readonly<Record<string, string | undefined>>;

const PREFIXES = ['OTEL_', 'ANALYTICS_'];
/** `HOME` and `XDG_STATE_HOME` place the default spool directory. */
const NAMES = ['DATABASE_URL', 'HOME', 'XDG_STATE_HOME'];

/**
 * The only place that reads `process.env`. Everything else receives the snapshot, so
 * configuration can be resolved (and tested) without touching the real environment.
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvSnapshot {
  const snapshot: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (NAMES.includes(name) || PREFIXES.some((p) => name.startsWith(p))) snapshot[name] = value;
  }
  return Object.freeze(snapshot);
}

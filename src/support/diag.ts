import { diag, type DiagLogger } from '@opentelemetry/api';
import { Redactor } from '../privacy/redactor.js';

/** Errors can quote request data (a URL, a header): logs get the same redaction as rows. */
const LOG_REDACTOR = new Redactor();
/** Longest error description logged. */
const MAX_ERROR_DESCRIPTION_LENGTH = 500;

/** A component logger under this package's namespace; never `console`. */
export function createLogger(component: string): DiagLogger {
  return diag.createComponentLogger({ namespace: `otel-pg-analytics/${component}` });
}

/**
 * Reports an error at most once per `intervalMillis` for the same key, counting what it
 * swallowed, so that a hook failing on every request cannot flood the log.
 */
export class RateLimitedReporter {
  readonly #logger: DiagLogger;
  readonly #intervalMillis: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: DiagLogger, intervalMillis = 60_000) {
    this.#logger = logger;
    this.#intervalMillis = intervalMillis;
  }

  error(key: string, message: string, error?: unknown): void {
    const total = this.tally(key);
    if (total === undefined) return;
    const suffix = total > 1 ? ` (${total - 1} similar errors suppressed)` : '';
    this.#logger.error(`${message}${suffix}`, describeError(error));
  }

  /**
   * Counts `count` occurrences under `key` (errors, rows dropped for one reason), and says
   * whether to report them now: the occurrences since the key was last reported, these
   * included, or `undefined` within `intervalMillis` of that report (they are kept for the next).
   */
  tally(key: string, count = 1): number | undefined {
    const now = Date.now();
    const entry = this.#last.get(key);
    if (entry && now - entry.at < this.#intervalMillis) {
      entry.suppressed += count;
      return undefined;
    }
    this.#last.set(key, { at: now, suppressed: 0 });
    return count + (entry?.suppressed ?? 0);
  }
}

/**
 * A short description of an unknown thrown value, without payloads: secrets redacted, cut to
 * {@link MAX_ERROR_DESCRIPTION_LENGTH} characters.
 */
export function describeError(error: unknown): string {
  const text = LOG_REDACTOR.redactText(rawDescription(error));
  return text.length > MAX_ERROR_DESCRIPTION_LENGTH
    ? `${text.slice(0, MAX_ERROR_DESCRIPTION_LENGTH)}…`
    : text;
}

function rawDescription(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  switch (typeof error) {
    case 'undefined':
      return '';
    case 'string':
      return error;
    case 'object':
      try {
        return JSON.stringify(error);
      } catch {
        return Object.prototype.toString.call(error);
      }
    case 'function':
      return `[function ${error.name}]`;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return error.toString();
    default:
      return '';
  }
}

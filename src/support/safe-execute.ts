import { RateLimitedReporter, createLogger } from './diag.js';

const reporter = new RateLimitedReporter(createLogger('hooks'));

/**
 * Runs `fn`, returning `fallback` if it throws. Everything this package runs inside the app's
 * own call stack (span processor hooks, instrumentation hooks, helpers) goes through here,
 * because the SDK calls processors without a try/catch and a throw would reach the app.
 */
export function safeExecute<T>(where: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (error) {
    reporter.error(where, `otel-pg-analytics: ${where} failed; the app is unaffected`, error);
    return fallback;
  }
}

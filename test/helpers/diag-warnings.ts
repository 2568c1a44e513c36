import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

/**
 * Routes OpenTelemetry's diag warnings and errors into an array, as one line each. Component
 * loggers pass their namespace first and the message after it, so all arguments are joined.
 * Call `stop()` to remove the logger again.
 */
export function captureDiagWarnings(): { warnings: string[]; stop: () => void } {
  const warnings: string[] = [];
  const collect = (...args: unknown[]): void => void warnings.push(args.map(String).join(' '));
  const logger: DiagLogger = {
    error: collect,
    warn: collect,
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
  return { warnings, stop: () => diag.disable() };
}

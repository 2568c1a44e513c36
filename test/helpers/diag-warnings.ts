import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

/**
 * Routes OpenTelemetry's diag warnings and errors (and infos, with `includeInfo`) into an
 * array, as one line each. Component loggers pass their namespace first and the message after
 * it, so all arguments are joined. Call `stop()` to remove the logger again.
 */
export function captureDiagWarnings(options: { includeInfo?: boolean } = {}): {
  warnings: string[];
  stop: () => void;
} {
  const warnings: string[] = [];
  const collect = (...args: unknown[]): void => void warnings.push(args.map(String).join(' '));
  const logger: DiagLogger = {
    error: collect,
    warn: collect,
    info: options.includeInfo ? collect : () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, options.includeInfo ? DiagLogLevel.INFO : DiagLogLevel.WARN);
  return { warnings, stop: () => diag.disable() };
}

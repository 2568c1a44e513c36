/** Base class of the errors this package throws; each carries a stable `code`. */
export class AnalyticsError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Thrown at once when an option passed in code is invalid; the message quotes the value. */
export class ConfigError extends AnalyticsError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_OTEL_PG_ANALYTICS_INVALID_CONFIG', message, options);
  }
}

import type { ConnectionFailureClass } from './classify-connection-error.js';

/** No connection could be made; {@link ConnectionFailedError.failure} says why and what to do. */
export class ConnectionFailedError extends Error {
  /** Stable, for callers that branch on it. */
  readonly code = 'connection_failed';
  readonly failure: ConnectionFailureClass;

  constructor(failure: ConnectionFailureClass, options?: ErrorOptions) {
    super(failure.message, options);
    this.name = 'ConnectionFailedError';
    this.failure = failure;
  }
}

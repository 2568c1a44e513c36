import { context } from '@opentelemetry/api';
import { activeRedactor } from '../../pipeline/active-pipeline.js';
import { noteRequestError } from '../../pipeline/request-state.js';
import { safeExecute } from '../../support/safe-execute.js';

/**
 * Notes what a handler threw as the error of the request being served (the first one noted
 * wins). Only values with a non-empty string `message` count: Errors, Boom and HTTP errors.
 */
export function reportThrownError(error: unknown): void {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  if (typeof message === 'string' && message.length > 0) {
    noteRequestError(context.active(), message, activeRedactor());
  }
}

/**
 * For `promise.then(undefined, reportAndRethrow)`: notes the error, then rejects with it
 * unchanged, so the framework handles it exactly as before.
 */
export function reportAndRethrow(error: unknown): never {
  safeExecute('framework error', () => reportThrownError(error), undefined);
  throw error;
}

import { safeExecute } from '../../support/safe-execute.js';
import { isPromise } from './is-promise.js';
import { reportThrownError } from './report-thrown-error.js';

/**
 * What a framework's handler or dispatch returned, unchanged, with `settled` run once it has
 * settled (at once for a value, when a promise resolves or rejects) and a rejection noted as
 * the request's error before it travels on. `settled` cannot reach the app: what it throws is
 * reported, not rethrown.
 */
export function whenSettled(result: unknown, settled: () => void): unknown {
  const settle = (): void => safeExecute('framework route', settled, undefined);
  if (!isPromise(result)) {
    settle();
    return result;
  }
  return result.then(
    (value) => {
      settle();
      return value;
    },
    (error: unknown) => {
      settle();
      safeExecute('framework error', () => reportThrownError(error), undefined);
      throw error;
    },
  );
}

import { createLogger, describeError } from '../internal/diag.js';
import type { StartedPipeline } from '../start-analytics.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const logger = createLogger('exit');

/**
 * Flushes pending rows when the process is about to exit:
 * - naturally (`beforeExit`), when rows are pending;
 * - on SIGTERM/SIGINT (unless `handleSignals` is false): flush within `timeoutMillis`, then,
 *   if ours was the only listener, re-raise the signal so the process ends exactly as it
 *   would have without us (a listener cancels Node's default exit). If the app listens too,
 *   the app decides when to exit.
 * Only the register entry installs these; the composable pieces install none.
 */
export function installExitHandlers(
  pipeline: StartedPipeline,
  options: { handleSignals: boolean; timeoutMillis: number },
): void {
  process.on('beforeExit', () => {
    if (pipeline.hasPendingWork()) void shutdownWithin(pipeline, options.timeoutMillis);
  });
  if (!options.handleSignals) return;
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      for (const s of SIGNALS) process.removeListener(s, handlers.get(s)!);
      void shutdownWithin(pipeline, options.timeoutMillis).finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    handlers.set(signal, onSignal);
    process.on(signal, onSignal);
  }
}

const handlers = new Map<string, () => void>();

async function shutdownWithin(pipeline: StartedPipeline, timeoutMillis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pipeline.shutdown(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn(`the final flush did not finish within ${timeoutMillis}ms; exiting anyway`);
          resolve();
        }, timeoutMillis);
      }),
    ]);
  } catch (error) {
    logger.warn(`the final flush failed: ${describeError(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

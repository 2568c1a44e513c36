import { createLogger } from '../support/diag.js';
import { raceTimeout } from '../support/race-timeout.js';
import type { StartedPipeline } from '../start-analytics.js';
import { stopServing } from './stop-serving.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const logger = createLogger('exit');

/**
 * Flushes pending rows when the process is about to exit:
 * - naturally (`beforeExit`): the final flush, once;
 * - on SIGTERM/SIGINT (unless `handleSignals` is false). A signal listener cancels Node's
 *   default exit, so what happens depends on whether the app listens too, decided when the
 *   signal arrives (an app's `once` listener is gone by the time a flush ends):
 *   - the app does not listen: without us the process would die at once, answering nothing
 *     more. So it stops serving at once (new connections and requests are closed without a
 *     response, requests in flight are cut and recorded as such), flushes within
 *     `timeoutMillis`, then re-raises the signal so the process ends by it. Every request it
 *     answered has its row, and it answers none during the flush;
 *   - the app listens: it decides when to exit; rows written so far are flushed now, and the
 *     final flush runs when it exits naturally. (An app that calls `process.exit()` skips
 *     that: it should `await shutdown()` first.)
 * Only the register entry installs these; the composable pieces install none.
 */
export function installExitHandlers(
  pipeline: StartedPipeline,
  options: { handleSignals: boolean; timeoutMillis: number },
): void {
  process.on('beforeExit', () => void shutdownWithin(pipeline, options.timeoutMillis));
  if (!options.handleSignals) return;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      const appListens = process.listenerCount(signal) > 1;
      for (const [s, handler] of handlers) process.removeListener(s, handler);
      if (appListens) {
        void pipeline.forceFlush().catch(() => undefined);
        return;
      }
      void stopAndFlush(pipeline, options.timeoutMillis).finally(() => {
        process.kill(process.pid, signal);
      });
    };
    handlers.set(signal, onSignal);
    process.on(signal, onSignal);
  }
}

async function stopAndFlush(pipeline: StartedPipeline, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  // The cut requests' spans end as their connections close: wait for that, so the final
  // flush records them, but for half the deadline at most, so the flush keeps the other half.
  try {
    await raceTimeout(stopServing(), timeoutMillis / 2, { keepAlive: true });
  } catch (error) {
    logger.warn(`could not stop serving before the final flush: ${String(error)}`);
  }
  await shutdownWithin(pipeline, Math.max(0, deadline - Date.now()));
}

async function shutdownWithin(pipeline: StartedPipeline, timeoutMillis: number): Promise<void> {
  // The timer keeps the process alive: a final flush must be allowed to finish, within its deadline.
  const timedOut = await raceTimeout(pipeline.shutdown(), timeoutMillis, { keepAlive: true });
  if (timedOut) logger.warn(`the final flush did not finish within ${timeoutMillis}ms; exiting anyway`);
}

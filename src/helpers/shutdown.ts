import { getActivePipeline } from '../pipeline/active-pipeline.js';

/**
 * Flushes pending rows and stops the pipeline the register entry started. For apps that
 * manage their own exit (call it in your SIGTERM handler before `process.exit()`).
 * Resolves when done; never rejects. A no-op when nothing was started.
 */
export async function shutdown(): Promise<void> {
  await getActivePipeline()
    ?.shutdown()
    .catch(() => undefined);
}

/** Writes every pending row now (serverless handlers, tests). Never rejects. */
export async function forceFlush(): Promise<void> {
  await getActivePipeline()
    ?.forceFlush()
    .catch(() => undefined);
}

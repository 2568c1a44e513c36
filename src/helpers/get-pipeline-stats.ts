import { getActivePipeline } from '../pipeline/active-pipeline.js';
import type { PipelineStats } from '../pipeline-stats.js';

/**
 * The counters of the pipeline the register entry started (rows queued, exported, retried,
 * spooled, replayed, dropped and rejected by reason), or `undefined` when none runs. The same
 * counters go to `analytics_pipeline_stats` every minute while Postgres is reachable.
 *
 * ```ts
 * app.get('/internal/analytics', (req, res) => res.json(getPipelineStats() ?? {}));
 * ```
 */
export function getPipelineStats(): PipelineStats | undefined {
  try {
    return getActivePipeline()?.getStats();
  } catch {
    return undefined;
  }
}

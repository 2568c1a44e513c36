/**
 * What the pipeline has done since it started: the counters `getPipelineStats()` returns and
 * the exporter writes to `analytics_pipeline_stats`. Every row taken in ends up counted once
 * as exported, spooled (then replayed), rejected or dropped.
 */
export interface PipelineStats {
  /** Rows in memory waiting to be written, now. */
  queuedRows: number;
  /** Bytes in the on-disk spool waiting for replay, now. */
  spoolBytes: number;
  /** Rows written to Postgres (a row written twice, by a retry or a replay, counts twice). */
  exportedRows: number;
  /** Write attempts repeated after a retryable failure. */
  retries: number;
  /** Rows written to the spool instead of Postgres. */
  spooledRows: number;
  /** Spooled rows written to Postgres since (or found already there). */
  replayedRows: number;
  /** Rows given up on, by reason (`queue_full`, `spool_full`, `database_unavailable`, ...). */
  droppedRows: Record<string, number>;
  /** Rows Postgres refused (isolated from their batch, the rest written), by reason. */
  rejectedRows: Record<string, number>;
  /** The last write failure, if any since start. */
  lastError?: string;
}

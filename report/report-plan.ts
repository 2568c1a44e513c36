import type { ReportRange } from './report-data.js';
import { rawOnly, splitAtHours, type HourSplit } from './split-at-hours.js';

/** How a report reads its rows. */
export interface ReportReadOptions {
  /**
   * Whole hours from the hourly rollups (true), or every number from raw rows (false: as
   * slow as the range is long; for checking one against the other).
   */
  rollups: boolean;
  /**
   * The parts the rollups do not hold read every raw row of the range up to about this many,
   * and a sample of about this many past it; `Infinity` always reads every row.
   */
  sampleRows: number;
}

/** What a report's sections read, worked out once. */
export interface ReportPlan {
  range: ReportRange;
  /** Width of a time-series bucket, seconds. */
  bucketSeconds: number;
  /** Where totals and tables come from. */
  split: HourSplit;
  /** Where the time series come from: the same when a bucket is whole hours, else raw rows. */
  seriesSplit: HourSplit;
  sampleRows: number;
}

const HOUR_SECONDS = 3600;

/** The plan of a report over `range` with buckets of `bucketSeconds`. */
export function planReport(
  range: ReportRange,
  bucketSeconds: number,
  options: ReportReadOptions,
): ReportPlan {
  const split = options.rollups ? splitAtHours(range) : rawOnly(range);
  // An hourly rollup row cannot be cut into buckets under an hour (ranges up to four days), so
  // those series read raw rows; their totals and tables still come from the rollups.
  const seriesSplit = bucketSeconds % HOUR_SECONDS === 0 ? split : rawOnly(range);
  return { range, bucketSeconds, split, seriesSplit, sampleRows: options.sampleRows };
}

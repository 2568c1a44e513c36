import type { ReportRange } from './report-data.js';

const HOUR_MILLIS = 3_600_000;

/** A report's range cut where the hourly rollups can answer it exactly. */
export interface HourSplit {
  /** The whole UTC hours inside the range (`since` and `until` on hour starts), or null if none. */
  wholeHours: ReportRange | null;
  /**
   * The rest, read from raw rows: the partial hours at either end (each under an hour), or the
   * whole range when it holds no whole hour.
   */
  partial: readonly ReportRange[];
}

/**
 * Cuts `range` into the whole UTC hours inside it and the partial hours at its ends. A rollup
 * row sums the rows of one UTC hour (`date_trunc('hour', time, 'UTC')`), so it is exact for a
 * range that covers its hour and unusable for one that covers part of it: the whole hours
 * read rollups, the partial hours raw rows, and together they count every row once.
 *
 * ```ts
 * splitAtHours({ since: new Date('2026-11-01T10:20Z'), until: new Date('2026-11-02T08:05Z') });
 * // wholeHours: 11:00 to 08:00; partial: 10:20 to 11:00 and 08:00 to 08:05
 * ```
 */
export function splitAtHours(range: ReportRange): HourSplit {
  // Epoch milliseconds are UTC, so multiples of an hour are UTC hour starts.
  const from = Math.ceil(range.since.getTime() / HOUR_MILLIS) * HOUR_MILLIS;
  const to = Math.floor(range.until.getTime() / HOUR_MILLIS) * HOUR_MILLIS;
  if (from >= to) return { wholeHours: null, partial: [range] };
  const partial: ReportRange[] = [];
  if (range.since.getTime() < from) partial.push({ since: range.since, until: new Date(from) });
  if (to < range.until.getTime()) partial.push({ since: new Date(to), until: range.until });
  return { wholeHours: { since: new Date(from), until: new Date(to) }, partial };
}

/** The split that reads every row raw: for checking the rollups' answers against the rows. */
export function rawOnly(range: ReportRange): HourSplit {
  return { wholeHours: null, partial: [range] };
}

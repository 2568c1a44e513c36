import type { ReportRange } from './report-data.js';

/** What the command line says about a report's window. */
export interface ReportRangeOptions {
  since?: string;
  until?: string;
  /** A duration back from `until`: `90m`, `24h`, `7d`, `2w`. */
  last?: string;
}

/** Without --since or --last, a report covers this long. */
export const DEFAULT_REPORT_LAST = '24h';

const UNIT_MILLIS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * The window of a report from `--since`/`--until` (ISO dates or times) or `--last`, ending
 * `now` unless `--until` says otherwise; a string saying what is wrong when they do not make
 * a window.
 */
export function resolveReportRange(options: ReportRangeOptions, now: Date): ReportRange | string {
  if (options.since !== undefined && options.last !== undefined) return 'give --since or --last, not both';
  const until = options.until === undefined ? now : new Date(options.until);
  if (Number.isNaN(until.getTime())) return `--until ${JSON.stringify(options.until)} is not a date`;
  let since: Date;
  if (options.since !== undefined) {
    since = new Date(options.since);
    if (Number.isNaN(since.getTime())) return `--since ${JSON.stringify(options.since)} is not a date`;
  } else {
    const last = options.last ?? DEFAULT_REPORT_LAST;
    const match = /^(\d+)\s*([mhdw])$/.exec(last.trim());
    if (!match || Number(match[1]) === 0)
      return `--last ${JSON.stringify(last)} is not a duration like 90m, 24h, 7d or 2w`;
    since = new Date(until.getTime() - Number(match[1]) * UNIT_MILLIS[match[2]!]!);
  }
  if (since.getTime() >= until.getTime()) return 'the report window is empty: --since must be before --until';
  return { since, until };
}

import type { ReportBucket } from './report-data.js';

/** A value from a row as a number (0 for null or anything not finite). */
export function num(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** A value from a row as a number, null staying null. */
export function nullableNum(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

/** A row of a time series (`time` and `keys`) as a bucket. */
export function bucketOf(row: Record<string, unknown>, keys: readonly string[]): ReportBucket {
  return {
    time: row.time as Date,
    values: Object.fromEntries(keys.map((key) => [key, num(row[key])])),
  };
}

/** Long rows (time, key, value) to one bucket per time with a value per key. */
export function pivot(rows: Record<string, unknown>[], key: string, value: string): ReportBucket[] {
  const byTime = new Map<number, { time: Date; values: Record<string, number> }>();
  for (const row of rows) {
    const time = row.time as Date;
    const entry = byTime.get(time.getTime()) ?? { time, values: {} };
    entry.values[String(row[key])] = num(row[value]);
    byTime.set(time.getTime(), entry);
  }
  return [...byTime.values()];
}

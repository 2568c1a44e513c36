import { describe, expect, it } from 'vitest';
import { histogramPercentile } from '../../report/histogram-percentile.js';

// analytics_latency_bounds_ms() of schema.sql: 12 buckets, the last open.
const BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const histogram = (entries: Record<number, number>) =>
  BOUNDS.map((_, i) => entries[i] ?? 0).concat(entries[11] ?? 0);

describe('histogramPercentile', () => {
  it('lands in the bucket that holds the percentile and interpolates geometrically within it', () => {
    // 90 requests under 5 ms, 10 between 100 and 250 ms: the p95 is half-way into the second.
    const counts = histogram({ 0: 90, 5: 10 });
    expect(histogramPercentile(counts, BOUNDS, 0.95)).toBeCloseTo(100 * 2.5 ** 0.5, 9);
    // The p90 sits exactly at the top of the first bucket, which starts at 0: linear there.
    expect(histogramPercentile(counts, BOUNDS, 0.9)).toBe(5);
    expect(histogramPercentile(counts, BOUNDS, 0.45)).toBe(2.5);
  });

  it('stays within the bucket the percentile falls in', () => {
    const counts = histogram({ 3: 40, 6: 50, 8: 10 });
    for (const [fraction, lower, upper] of [
      [0.2, 25, 50],
      [0.5, 250, 500],
      [0.95, 1000, 2500],
    ] as const) {
      const p = histogramPercentile(counts, BOUNDS, fraction)!;
      expect(p).toBeGreaterThanOrEqual(lower);
      expect(p).toBeLessThanOrEqual(upper);
    }
  });

  it('gives the open top bucket its lower bound, and null for no requests', () => {
    expect(histogramPercentile(histogram({ 2: 1, 11: 99 }), BOUNDS, 0.95)).toBe(10000);
    expect(histogramPercentile(histogram({}), BOUNDS, 0.95)).toBeNull();
  });

  it('counts weighted requests as they are, fractions included', () => {
    expect(histogramPercentile(histogram({ 4: 2.5, 5: 2.5 }), BOUNDS, 0.5)).toBe(100);
  });
});

/**
 * The `fraction` percentile (0.95 for p95) of a latency histogram: `counts[i]` requests in
 * bucket i of `bounds` as PostgreSQL's width_bucket numbers them (bucket 0 below `bounds[0]`,
 * bucket i from `bounds[i - 1]` up to `bounds[i]`, the last from the last bound up, open).
 * Null for an empty histogram.
 *
 * Exact to the bucket the percentile falls in; within it, interpolated geometrically, as
 * latencies spread about evenly on a log scale (linearly in the first bucket, which starts at
 * 0). In the open top bucket the answer is its lower bound: at least that much.
 */
export function histogramPercentile(
  counts: readonly number[],
  bounds: readonly number[],
  fraction: number,
): number | null {
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (!(total > 0)) return null;
  const target = fraction * total;
  let below = 0;
  for (const [i, n] of counts.entries()) {
    if (n > 0 && below + n >= target) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i];
      if (upper === undefined) return lower;
      const within = (target - below) / n;
      return lower > 0 ? lower * (upper / lower) ** within : upper * within;
    }
    below += n;
  }
  // Only rounding can leave the target past the last count: the top of the histogram.
  return bounds[bounds.length - 1] ?? null;
}

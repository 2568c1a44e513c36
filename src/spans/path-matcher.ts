/**
 * Compiles excluded-path entries: an exact path, or a prefix ending in `*`
 * (`/health`, `/static/*`). Query strings are not part of the match.
 */
export function createPathMatcher(patterns: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  if (exact.size === 0 && prefixes.length === 0) return () => false;
  return (path) => exact.has(path) || prefixes.some((p) => path.startsWith(p));
}

/** What an id-like path segment becomes in a normalized endpoint. */
export const ID_PLACEHOLDER = ':id';

const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{16,}$/i;
/** Mongo ObjectIds, ULIDs and similar 20+ character tokens that mix digits and letters. */
const OPAQUE_TOKEN = /^(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}$/;

/**
 * Turns an actual path into a low-cardinality endpoint when no framework route template is
 * known: numeric ids, UUIDs, long hex and opaque tokens become `:id`
 * (`/api/items/42/reviews` → `/api/items/:id/reviews`).
 */
export function normalizePath(path: string): string {
  if (path.length === 0) return '/';
  const segments = path.split('/');
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.length === 0) continue;
    if (NUMERIC.test(segment) || UUID.test(segment) || LONG_HEX.test(segment) || OPAQUE_TOKEN.test(segment)) {
      segments[i] = ID_PLACEHOLDER;
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

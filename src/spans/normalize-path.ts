import { PSEUDONYM_PREFIX } from '../privacy/pseudonymize.js';

/** What an id-like path segment becomes in a normalized endpoint. */
export const ID_PLACEHOLDER = ':id';

/** Segments kept in a normalized endpoint; deeper ones become one `*`. */
export const MAX_ENDPOINT_SEGMENTS = 6;

/**
 * Longer segments are never a route's own word: they become `:id` without further tests (which
 * also keeps every pattern below running on 64 characters at most).
 */
const MAX_WORD_LENGTH = 64;

/** Most segments: a short lower-case word, which no rule below changes (checked first, for speed). */
const SHORT_WORD = /^[a-z]{1,15}$/;
const NUMERIC = /^\d+$/;
/** `20240501` (a plausible year, month and day), which as a number would be an `:id`. */
const COMPACT_DATE = /^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `2024-05`, `2024-05-01`, `2024-05-01T10:00:00Z` (colons possibly escaped as `%3A`). */
const DATE = /^(?:19|20)\d\d-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01])(?:T[\dTZ:.+%A-]*)?)?$/;
const EMAIL = /^[^@/]+(?:@|%40)[^@/]+\.[A-Za-z]{2,}$/;
const LONG_HEX = /^[0-9a-f]{16,}$/i;
/** A name with an extension (`app.3f9a1c.js`, `wp-login.php`) or a dotfile (`.env`). */
const FILE = /^[\w.~%+-]*\.[A-Za-z][A-Za-z0-9]{0,9}$/;
/** Names shaped like files that are a route's own word. */
const NOT_FILES = new Set(['socket.io']);
/**
 * Locales (`en-US`, `es-419`, `zh-Hant-TW`): route words, though shaped like slugs. Of the
 * numeric regions only those in use (Latin America, world, Europe), so `pks-590` is a slug.
 */
const LOCALE = /^[a-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|419|001|150)){1,2}$/;
/** Lower-case words and numbers joined by `-` or `_`. */
const SLUG = /^[a-z0-9]+(?:[-_][a-z0-9]+)+$/;
/** Fewest words of a slug without a number (`how-to-train-dragons`). */
const MIN_SLUG_WORDS = 4;
/**
 * base64, base64url and other opaque tokens of 16 characters or more with letters and digits
 * (Mongo ObjectIds, ULIDs, nanoids; `+`, `=` and an escaped `/` included).
 */
const TOKEN = /^(?=[^\d]*\d)(?=[^A-Za-z]*[A-Za-z])(?:[A-Za-z0-9+_-]|%2[BbFf]|%3[Dd]){16,}(?:=|%3[Dd]){0,2}$/;
/** base64 with its `=` padding, however short: no route word ends in `=`. */
const PADDED_BASE64 = /^(?:[A-Za-z0-9+_-]|%2[BbFf]){4,}(?:=|%3[Dd]){1,2}$/;
/** User ids pseudonymized in the path (`u_` and 22 characters of base64url, digits or not). */
const PSEUDONYM = new RegExp(`^${PSEUDONYM_PREFIX}[A-Za-z0-9_-]{22}$`);

/**
 * The placeholder a path segment becomes in a normalized endpoint, or `undefined` to keep it:
 * `:id` for numbers, UUIDs, long hex, opaque and base64 tokens and over-long segments, `:date`,
 * `:email`, `:file` for a name with an extension or a dotfile, `:slug` for lower-case words
 * joined by `-` or `_` with a number in them (`iphone-15`, `how-to-x7k2-and-more`) or of four
 * words or more. Plain words stay: a username (`/users/alice`) cannot be told from a route's
 * own word, which is why the number of distinct endpoints is also bounded elsewhere.
 */
function segmentPlaceholder(segment: string): string | undefined {
  if (SHORT_WORD.test(segment)) return undefined;
  if (segment.length > MAX_WORD_LENGTH) return ID_PLACEHOLDER;
  if (NUMERIC.test(segment)) return COMPACT_DATE.test(segment) ? ':date' : ID_PLACEHOLDER;
  if (UUID.test(segment) || LONG_HEX.test(segment)) return ID_PLACEHOLDER;
  if (DATE.test(segment)) return ':date';
  if (EMAIL.test(segment)) return ':email';
  if (FILE.test(segment) && !NOT_FILES.has(segment)) return ':file';
  if (LOCALE.test(segment)) return undefined;
  if (SLUG.test(segment) && isSlug(segment)) return ':slug';
  if (TOKEN.test(segment) || PADDED_BASE64.test(segment) || PSEUDONYM.test(segment)) return ID_PLACEHOLDER;
  return undefined;
}

/**
 * Slug-shaped (see {@link SLUG}) and a slug rather than a route's name: of four words or more,
 * with a number as a word (`iphone-15`), or of three words with a digit (`s3-upload-url`).
 * Two words with a digit in one (`oauth2-callback`) stay a name.
 */
function isSlug(segment: string): boolean {
  const words = segment.split(/[-_]/);
  if (words.length >= MIN_SLUG_WORDS) return true;
  if (words.some((word) => NUMERIC.test(word))) return true;
  return words.length === 3 && /\d/.test(segment);
}

/**
 * Turns an actual path into a low-cardinality endpoint when no framework route template is
 * known: each segment by {@link segmentPlaceholder} (`/api/items/42/reviews` →
 * `/api/items/:id/reviews`, `/assets/app.3f9a1c.js` → `/assets/:file`), empty segments
 * dropped (`//a/b/` → `/a/b`), and segments past {@link MAX_ENDPOINT_SEGMENTS} replaced by one
 * `*`. Pure and deterministic: the bound over how many distinct values a process stores is
 * kept by the exporter's `UnroutedEndpointGuard`, which needs memory.
 */
export function normalizePath(path: string): string {
  const shape: string[] = [];
  for (const segment of path.split('/')) {
    if (segment.length === 0) continue;
    if (shape.length === MAX_ENDPOINT_SEGMENTS) {
      shape.push('*');
      break;
    }
    shape.push(segmentPlaceholder(segment) ?? segment);
  }
  return `/${shape.join('/')}`;
}

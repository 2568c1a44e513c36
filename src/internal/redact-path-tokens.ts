/**
 * Tokens as path segments: reset, verification, invite and magic links carry their secret in
 * the path (`/reset/<token>`, `/invite/ABCD-1234`), where no parameter name gives it away. Two
 * rules find them:
 *
 * - after a segment naming such a link (`reset`, `token`, `verify`, `confirm`, `invite`,
 *   `magic-link`, ...), every later segment that is not an ordinary word (`/reset/confirm`
 *   stays, `/verify/482913` does not);
 * - anywhere, a segment that looks random: 20 or more characters of base64url, not a UUID, a
 *   number, hex shorter than 32 (database ids), a slug or an identifier made of words.
 */

/** Words of a segment that make the segments after it secret. */
const LINK_WORDS = new Set([
  'reset',
  'password',
  'token',
  'verify',
  'verification',
  'confirm',
  'confirmation',
  'invite',
  'invitation',
  'magic',
  'magiclink',
  'activate',
  'activation',
  'unsubscribe',
  'recover',
  'recovery',
  'otp',
  'secret',
]);

/** Segments that stay after a link word: words, dotted or dashed, and API versions (`v2beta1`). */
const ORDINARY_SEGMENT =
  /^(?:[a-z]{1,32}|[A-Z][a-z]{1,31})(?:[-_.][a-z]{1,32}){0,8}$|^v\d{1,3}(?:[a-z]{1,8}\d{0,3})?$/;

const TOKEN_CHARACTERS = /^[A-Za-z0-9_~+=-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;
/** Hex this long is a digest or a random token; shorter hex (ObjectIds: 24) an id. */
const MIN_SECRET_HEX_LENGTH = 32;
/** Words and numbers joined by `-` or `_`: `how-to-reset-2024`, `IMG_20240517_1234`. */
const SLUG = /^(?:[a-z]+|[A-Z][a-z]+|[A-Z]+|\d+)(?:[-_](?:[a-z]+|[A-Z][a-z]+|[A-Z]+|\d+))+$/;
/** A run of letters as identifiers spell words: `User`, `objects`, `HTTP`. */
const LETTER_RUN = /[A-Z]?[a-z]+|[A-Z]+(?![a-z])/g;
const VOWEL = /[aeiouy]/i;
const FOUR_CONSONANTS = /[b-df-hj-np-tv-xz]{4}/i;

/** A path none of the link words can be in lacks all of these. */
const LINK_HINT = /reset|password|token|verif|confirm|invit|magic|activat|unsubscribe|recover|otp|secret/i;
/** Shortest segment looked at as a possible random token. */
const MIN_TOKEN_LENGTH = 20;

/** Replaces token segments of `path` (no query) with `redacted`. */
export function redactPathTokens(path: string, redacted: string): string {
  // Most paths have no link word and no long segment: two scans, nothing allocated.
  const mayNameLink = LINK_HINT.test(path);
  if (!mayNameLink && !hasLongSegment(path)) return path;
  const segments = path.split('/');
  let afterLinkWord = false;
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.length === 0 || segment === redacted) continue;
    if (!mayNameLink && segment.length < MIN_TOKEN_LENGTH) continue;
    const decoded = decodeSegment(segment);
    if (afterLinkWord ? !ORDINARY_SEGMENT.test(decoded) : looksLikeToken(decoded)) {
      segments[i] = redacted;
      changed = true;
    } else if (mayNameLink && !afterLinkWord && namesLink(decoded)) {
      afterLinkWord = true;
    }
  }
  return changed ? segments.join('/') : path;
}

/**
 * Whether a segment looks like a random token rather than an id, a slug or a name. Random text
 * changes between small letters, capitals and digits often, and little of it spells words
 * (runs of three or more letters with a vowel and no four consonants in a row); names do the
 * opposite. Of random base64url tokens, about 0.4% of 20 characters and 0.02% of 40 pass for
 * names (measured in the unit tests); the link words above catch those in reset links.
 */
export function looksLikeToken(segment: string): boolean {
  if (segment.length < MIN_TOKEN_LENGTH || UUID.test(segment) || !TOKEN_CHARACTERS.test(segment)) {
    return false;
  }
  if (/^\d+$/.test(segment) || !hasManyCharacters(segment)) return false;
  if (HEX.test(segment)) return segment.length >= MIN_SECRET_HEX_LENGTH;
  if (SLUG.test(segment)) return false;
  const compact = segment.replace(/[_~+=-]/g, '');
  let letters = 0;
  let switches = 0;
  for (let i = 0; i < compact.length; i++) {
    const kind = charKind(compact.charCodeAt(i));
    if (kind !== DIGIT) letters++;
    if (i > 0 && kind !== charKind(compact.charCodeAt(i - 1))) switches++;
  }
  if (letters === 0) return false;
  let wordLetters = 0;
  for (const [run] of segment.matchAll(LETTER_RUN)) {
    if (run.length >= 3 && VOWEL.test(run) && !FOUR_CONSONANTS.test(run)) wordLetters += run.length;
  }
  const wordShare = wordLetters / letters;
  return (switches / (compact.length - 1) >= 0.3 && wordShare < 0.8) || wordShare < 0.6;
}

/** Fewest different characters in a token: random text of 20 has about 17, `xxxx…` one. */
const MIN_DISTINCT_CHARACTERS = 8;

/** Whether `text` has at least {@link MIN_DISTINCT_CHARACTERS} different characters. */
function hasManyCharacters(text: string): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < text.length && seen.size < MIN_DISTINCT_CHARACTERS; i++) seen.add(text.charCodeAt(i));
  return seen.size >= MIN_DISTINCT_CHARACTERS;
}

const SMALL = 0;
const CAPITAL = 1;
const DIGIT = 2;

function charKind(code: number): number {
  if (code >= 97 && code <= 122) return SMALL;
  if (code >= 65 && code <= 90) return CAPITAL;
  return DIGIT;
}

/** Most words in a segment naming a link (`confirm-email-change`); more make a title or slug. */
const MAX_LINK_SEGMENT_WORDS = 3;

/** Whether a segment of `path` is long enough to be a token (native `indexOf` jumps, no copies). */
function hasLongSegment(path: string): boolean {
  let start = 0;
  for (;;) {
    const end = path.indexOf('/', start);
    if ((end === -1 ? path.length : end) - start >= MIN_TOKEN_LENGTH) return true;
    if (end === -1) return false;
    start = end + 1;
  }
}

function namesLink(segment: string): boolean {
  const words = segment
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
  return words.length <= MAX_LINK_SEGMENT_WORDS && words.some((w) => LINK_WORDS.has(w));
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

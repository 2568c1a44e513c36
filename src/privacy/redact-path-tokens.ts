import { safeDecodeURIComponent } from './safe-decode-uri-component.js';
import { splitWords } from './sensitive-names.js';

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
/** Link words after which a one-time code (6 to 8 digits, as RFC 4226 has them) is a secret too. */
const CODE_LINK_WORDS = new Set(['verify', 'verification', 'confirm', 'confirmation', 'otp']);
/**
 * Whole segments naming a share link (`/s/<token>`, `/share/<token>`); as words of a longer
 * name (`what-s-new`, `share-buttons`) they name none.
 */
const SHARE_SEGMENTS = new Set(['s', 'S', 'share', 'shared']);

/** {@link scanSegments}: a segment is long enough to be a token. */
const LONG = 1;
/** {@link scanSegments}: a segment may name a share link. */
const SHARE = 2;

const SMALL_S = 0x73;
/** A path none of the link words can be in lacks all of these. */
const LINK_HINT = /reset|password|token|verif|confirm|invit|magic|activat|unsubscribe|recover|otp|secret/i;
/** Most words in a segment naming a link (`confirm-email-change`); more make a title or slug. */
const MAX_LINK_SEGMENT_WORDS = 3;
/** Plain-word segments a link's token may come after (`/verify/email/<token>`, `/reset/password/confirm/<token>`). */
const MAX_WORDS_AFTER_LINK = 2;

const NO_LINK = 0;
const LINK = 1;
const CODE_LINK = 2;
type LinkKind = typeof NO_LINK | typeof LINK | typeof CODE_LINK;

/** Words, dotted or dashed: `accept`, `email-change`, `index.html`. After a link, they end its token. */
const PLAIN_WORD = /^(?:[a-z]{1,32}|[A-Z][a-z]{1,31})(?:[-_.][a-z]{1,32}){0,8}$/;
/** API versions (`v2beta1`, `1.2.3`, `2024-05-01`), never a link's token. */
const VERSION = /^v\d{1,3}(?:[a-z]{1,8}\d{0,3})?$|^v?\d{1,4}(?:\.\d{1,4}){1,3}$|^\d{4}-\d{2}-\d{2}$/;
/** Locales (`en-US`, `zh-Hant-TW`, `es-419`), never a link's token. */
const LOCALE = /^[a-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|\d{3})){1,2}$/;
/** A one-time code after `verify`, `confirm` or `otp`: `/verify/482913`. */
const ONE_TIME_CODE = /^\d{6,8}$/;
/**
 * Shortest segment after a link word taken for its token: 8 characters of base64url carry 48
 * bits, past guessing; shorter ones there are ids (`/unsubscribe/42`, `/activation-status/3`).
 */
const MIN_LINK_TOKEN_LENGTH = 8;

/**
 * Shortest segment taken for a token anywhere. Ordinary ids are shorter: ObjectId 24, ULID 26,
 * KSUID 27, cuid 25, nanoid 21, Firebase push ids 20, Google place ids 27, Stripe-style
 * `cus_…` ids about 18; a dashed UUID (36) is recognised by its shape.
 */
const MIN_RANDOM_TOKEN_LENGTH = 32;
const TOKEN_CHARACTERS = /^[A-Za-z0-9_~+=-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;
/**
 * Ids with a type prefix (`user_2NNEqL2n…`, `cs_test_a1YS…`), kept however long unless the
 * prefix names a secret. Of three letters or more, or with a `test`/`live` mode: a random
 * base64url token starts like `ab_` too often (one in 300) to keep those.
 */
const PREFIXED_ID = /^([a-z]{3,12}|[a-z]{2,12}(?=_(?:test|live)_))(?:_test|_live)?_[A-Za-z0-9]{8,}$/;
/** Prefixes of secret keys shaped like prefixed ids (Stripe, npm, Hugging Face, Shopify, ...). */
const SECRET_PREFIXES = new Set([
  'sk',
  'rk',
  'whsec',
  'npm',
  'hf',
  'pat',
  'shpat',
  'shpss',
  'shpca',
  'shppa',
]);
/** Words and numbers joined by `-` or `_`: `how-to-reset-2024`, `IMG_20240517_1234`. */
const SLUG = /^(?:[a-z]+|[A-Z][a-z]+|[A-Z]+|\d+)(?:[-_](?:[a-z]+|[A-Z][a-z]+|[A-Z]+|\d+))+$/;
/** A run of letters as identifiers spell words: `User`, `objects`, `HTTP`. */
const LETTER_RUN = /[A-Z]?[a-z]+|[A-Z]+(?![a-z])/g;
const VOWEL = /[aeiouy]/i;
const FOUR_CONSONANTS = /[b-df-hj-np-tv-xz]{4}/i;
/** Fewest different characters in a token: random text of 32 has about 25, `xxxx…` one. */
const MIN_DISTINCT_CHARACTERS = 8;

/**
 * Replaces token segments of `path` (no query) with `redacted`. Reset, verification, invite,
 * magic and share links carry their secret in the path (`/reset/<token>`, `/invite/ABCD-1234`),
 * where no parameter name gives it away. Two rules find them, and leave ids alone:
 *
 * - after a segment naming such a link (`reset`, `verify`, `confirm`, `invite`, `magic-link`,
 *   `activation-status`, `unsubscribe`, `s`, ...), over up to two plain words, each segment that
 *   could be a token: {@link MIN_LINK_TOKEN_LENGTH} characters or more and no word, version or
 *   locale (`/reset/<token>`, `/invite/abc123def456`, not `/unsubscribe/42` or `/reset/en-US`),
 *   and after `verify`, `confirm` or `otp` also a code of 6 to 8 digits;
 * - anywhere, a segment of {@link MIN_RANDOM_TOKEN_LENGTH} characters or more that looks
 *   random (see {@link looksLikeToken}).
 */
export function redactPathTokens(path: string, redacted: string): string {
  // Most paths have no link word, no share segment and no long segment: two scans, nothing
  // allocated.
  const scanned = scanSegments(path);
  const mayNameLink = (scanned & SHARE) !== 0 || LINK_HINT.test(path);
  if (!mayNameLink && (scanned & LONG) === 0) return path;
  const segments = path.split('/');
  let link: LinkKind = NO_LINK;
  let wordsSinceLink = 0;
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.length === 0 || segment === redacted) continue;
    if (!mayNameLink && segment.length < MIN_RANDOM_TOKEN_LENGTH) continue;
    const decoded = safeDecodeURIComponent(segment);
    let secret: boolean;
    if (link !== NO_LINK && !PLAIN_WORD.test(decoded)) {
      secret = couldBeLinkToken(decoded, link);
    } else {
      // A plain word may name the next link (`/password/reset/<token>`); a link stays open over
      // a few that do not (`/verify/email/<token>`), then ends.
      secret = looksLikeToken(decoded);
      if (!secret && mayNameLink) {
        const named = linkKind(decoded);
        if (named !== NO_LINK) [link, wordsSinceLink] = [named, 0];
        else if (++wordsSinceLink > MAX_WORDS_AFTER_LINK) link = NO_LINK;
      }
    }
    if (secret) {
      segments[i] = redacted;
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

/** Whether a segment after a link word (not a plain word) can be the link's token. */
function couldBeLinkToken(segment: string, link: LinkKind): boolean {
  if (segment.length < MIN_LINK_TOKEN_LENGTH) return link === CODE_LINK && ONE_TIME_CODE.test(segment);
  // A UUID or another id shape stays a token here: invite and reset links are made of them.
  return !VERSION.test(segment) && !LOCALE.test(segment);
}

/**
 * Whether a segment looks like a random token rather than an id, a slug or a name: at least
 * {@link MIN_RANDOM_TOKEN_LENGTH} characters of base64url, no UUID or prefixed id, and spelling
 * few words. Hex that long counts: a 40-hex git sha is lost with the tokens, since hex is how
 * most reset and API tokens are written (`SecureRandom.hex(20)`, `secrets.token_hex()`) and
 * nothing tells the two apart; the route template (`endpoint`) still says which page it was.
 * Random text changes between small letters, capitals and digits often, and little of it
 * spells words (runs of three or more letters with a vowel and no four consonants in a row);
 * names do the opposite.
 */
export function looksLikeToken(segment: string): boolean {
  if (
    segment.length < MIN_RANDOM_TOKEN_LENGTH ||
    UUID.test(segment) ||
    !TOKEN_CHARACTERS.test(segment) ||
    /^\d+$/.test(segment) ||
    !hasManyCharacters(segment)
  ) {
    return false;
  }
  if (HEX.test(segment)) return true;
  const prefix = PREFIXED_ID.exec(segment)?.[1];
  if (prefix !== undefined) return SECRET_PREFIXES.has(prefix);
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

/**
 * Which segments of `path` need a closer look: {@link LONG} and {@link SHARE} flags. Native
 * `indexOf` jumps and no copies, as every path passes here.
 */
function scanSegments(path: string): number {
  let flags = 0;
  let start = 0;
  for (;;) {
    const end = path.indexOf('/', start);
    const length = (end === -1 ? path.length : end) - start;
    if (length >= MIN_RANDOM_TOKEN_LENGTH) flags |= LONG;
    else if (length === 1 ? (path.charCodeAt(start) | 0x20) === SMALL_S : isShareWord(path, start, length)) {
      flags |= SHARE;
    }
    if (end === -1) return flags;
    start = end + 1;
  }
}

/** Whether `share` or `shared` (as URLs write them, in small letters) stands at `start`. */
function isShareWord(path: string, start: number, length: number): boolean {
  return (length === 5 || length === 6) && path.startsWith(length === 5 ? 'share' : 'shared', start);
}
/** A word of small letters, as most segments are: no need to split it. */
const SMALL_WORD = /^[a-z]+$/;

/** Which link a segment names, if any. */
function linkKind(segment: string): LinkKind {
  if (SHARE_SEGMENTS.has(segment)) return LINK;
  if (SMALL_WORD.test(segment)) {
    return CODE_LINK_WORDS.has(segment) ? CODE_LINK : LINK_WORDS.has(segment) ? LINK : NO_LINK;
  }
  const words = splitWords(segment);
  if (words.length > MAX_LINK_SEGMENT_WORDS) return NO_LINK;
  if (words.some((w) => CODE_LINK_WORDS.has(w))) return CODE_LINK;
  return words.some((w) => LINK_WORDS.has(w)) ? LINK : NO_LINK;
}

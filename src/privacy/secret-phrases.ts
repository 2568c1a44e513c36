const STRONG_NOUN = String.raw`pass(?:word|wd|phrase|code)|pwd|(?:(?:client|app)[ _-]?)?secret(?:[ _-]?key)?|(?:api|access|private|signing)[ _-]?key|apikey`;
const TOKEN_NOUN = String.raw`(?:(?:access|refresh|auth|bearer|session|id|api)[ _-]?)?token`;
// `PIN code 1234`: the noun takes `code` in, or `code` would be read as its value.
const CODE_NOUN = String.raw`(?:pin|otp)(?:[ _-]?code)?|cvv|cvc|ssn|(?:verification|security|one[ _-]?time)[ _-]?code`;

/**
 * A noun (as a whole word), what joins it to its value, the value: quoted (up to 200
 * characters, on one line) or one run of non-space characters. Each part is bounded, so
 * the scan stays linear on hostile text.
 */
const PHRASE_PATTERN = new RegExp(
  String.raw`(?<![A-Za-z0-9_])(?:(${STRONG_NOUN})|(${TOKEN_NOUN})|(${CODE_NOUN}))(?![A-Za-z0-9_])` +
    String.raw`([ \t]{0,16}[:=][ \t]{0,16}|[ \t]{1,16}(?:is|was)[ \t]{1,16}|[ \t]{1,16})` +
    String.raw`("[^"\n]{1,200}"|'[^'\n]{1,200}'|[^\s,;&"'<>()]{1,200})`,
  'gi',
);

/** Text none of the nouns can match lacks all of these: one cheap scan for most messages. */
const PHRASE_HINT = /pass|pwd|secret|key|token|pin|otp|cvv|cvc|ssn|code/i;

/** Punctuation that closes a sentence or a parenthesis after a word. */
const CLOSING_PUNCTUATION = /[.,;:!?)\]]+$/;
/** Sentence punctuation after a value is kept: `Password is hunter3.` */
const TRAILING_PUNCTUATION = /[.!?:]+$/;
/** A run of digits, dashes and spaces holding at least three digits: PINs, CVVs, SSNs. */
const DIGIT_CODE = /^(?=(?:\D*\d){3})\d[\d -]{1,14}\d$/;

/** Words that follow "password is", "secret:", ... in messages, and are not the secret. */
const PROSE_WORDS = new Set(
  (
    'a an the this that it its not no yes none null nil undefined empty blank missing required invalid ' +
    'valid incorrect correct wrong right bad good weak strong short long too very set unset present ' +
    'absent unknown malformed ok okay true false for from of in on at to by with without and or but ' +
    'if as now still already being been also only same different mandatory needed new old stale ' +
    'reset out up off down over gone here there secure insecure common mismatch unavailable ' +
    'available case must should cannot can will may'
  ).split(' '),
);
/** Endings of adjectives, participles and nouns of prose (`expired`, `missing`, `rotation`). */
const PROSE_ENDING = /^[a-z]+(?:ed|ing|ly|able|ible|ous|ive|ful|less|ment|ness|tion|sion|ity|ure|en)$/;

/**
 * Replaces the values of secret phrases in `text` with `redacted`.
 *
 * Secrets written into prose: `password hunter3`, `the api key is 8f14…`, `PIN 4821 rejected`.
 * A secret noun is followed by a value, and the value is told from ordinary words by its
 * shape, so messages such as "password reset requested", "token expired" or "API key is
 * missing" stay readable. Three kinds of nouns, each with its own bar for what a value is:
 *
 * - passwords, passphrases, passcodes, secrets and keys: after `is`, `was`, `:` or `=`
 *   anything but a word of prose; after a plain space, a credential-looking word; quoted,
 *   anything;
 * - tokens: a credential-looking word of 6 characters or more, quoted or not (parsers write
 *   "Unexpected token 'export'");
 * - PINs, one-time codes, CVVs and SSNs: digits (`4821`, `078-05-1120`) or a credential-looking word.
 */
export function redactSecretPhrases(text: string, redacted: string): string {
  if (!PHRASE_HINT.test(text)) return text;
  return text.replace(
    PHRASE_PATTERN,
    (
      match: string,
      strong: string | undefined,
      token: string | undefined,
      _code: string | undefined,
      joiner: string,
      rawValue: string,
    ) => {
      const quoted = rawValue.startsWith('"') || rawValue.startsWith("'");
      const trailing = quoted ? '' : (TRAILING_PUNCTUATION.exec(rawValue)?.[0] ?? '');
      const value = quoted ? rawValue.slice(1, -1) : rawValue.slice(0, rawValue.length - trailing.length);
      if (value.length === 0 || value === redacted) return match;
      const assigned = joiner.trim().length > 0;
      let secret: boolean;
      if (strong !== undefined) {
        secret = quoted || (assigned ? !isProseWord(value) : looksLikeCredential(value));
      } else if (token !== undefined) {
        secret = value.length >= 6 && looksLikeCredential(value);
      } else {
        secret = DIGIT_CODE.test(value) || looksLikeCredential(value);
      }
      if (!secret) return match;
      const noun = match.slice(0, match.length - joiner.length - rawValue.length);
      const shown = quoted ? `${rawValue[0]}${redacted}${rawValue[0]}` : `${redacted}${trailing}`;
      return `${noun}${joiner}${shown}`;
    },
  );
}

/**
 * Whether a word is prose rather than a value: a common word, or one with the ending of an
 * adjective, participle or abstract noun. Trailing punctuation is ignored (`YES)`).
 */
export function isProseWord(word: string): boolean {
  const bare = word.toLowerCase().replace(/[^a-z]+$/, '');
  if (bare.length === 0) return false;
  return PROSE_WORDS.has(bare) || (bare.length >= 5 && PROSE_ENDING.test(bare));
}

/**
 * Whether a single word looks like a credential rather than a word: at least 4 characters
 * with a digit, a symbol (hyphens and apostrophes between letters do not count, nor closing
 * punctuation after it), a capital after a small letter (`hUnter`, not `Reset` or `Expired`),
 * or 24 or more characters. One rule for every value the redactor weighs: after a secret
 * noun, after a sensitive name and `:`, and after an auth scheme (`Token 9f8e7d6c5b4a`, not
 * `Token expired`).
 */
export function looksLikeCredential(text: string): boolean {
  // Closing punctuation of the sentence around it is no symbol of the word: `(password: YES)`.
  const word = CLOSING_PUNCTUATION.test(text) ? text.replace(CLOSING_PUNCTUATION, '') : text;
  if (word.length < 4) return false;
  return (
    /\d/.test(word) ||
    /[a-z][A-Z]/.test(word) ||
    /[^A-Za-z0-9'-]/.test(word) ||
    /^[-']|[-']$|[-']{2}/.test(word) ||
    word.length >= 24
  );
}

// Which parameter, header and field names hold secrets, by their words: one list for the
// redactor's every use (query strings, headers, metadata, `name=value` in text).

/**
 * Words that make a parameter, header or field name sensitive. A name is split into words at
 * `-`, `_`, `.`, spaces and camelCase humps, so `apiKey`, `X-Api-Key` and `api_key` match on
 * `key` while `keyword` or `monkey` do not.
 */
export const DEFAULT_SENSITIVE_WORDS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'pw',
  'pass',
  'passphrase',
  'passcode',
  'secret',
  'token',
  'key',
  'apikey',
  'auth',
  'authorization',
  'authentication',
  'credential',
  'credentials',
  'signature',
  'sig',
  'session',
  'sessionid',
  'sid',
  'code',
  'otp',
  'cookie',
  'jwt',
  'bearer',
  'private',
  'privatekey',
  'ssn',
  'cvv',
  'cvc',
  'pin',
  'totp',
  'csrf',
  'xsrf',
]);

/**
 * Words glued to these are sensitive too: Node lower-cases header names, so `X-CSRFToken`
 * arrives as `x-csrftoken`, and names like `newpassword` or `webhooksecret` have no humps.
 */
const SENSITIVE_WORD_ENDINGS = /(?:token|secret|password|passwd|passphrase|passcode|apikey|csrf|xsrf)$/;
const SENSITIVE_WORD_STARTS = /^(?:password|passwd|csrf|xsrf)/;

/** Whole names (after lower-casing and removing separators) that are sensitive. */
const SENSITIVE_COMPACT_NAMES = new Set([
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'authtoken',
  'apikey',
  'clientsecret',
  'sessionid',
  'sessiontoken',
  'jsessionid',
  'phpsessid',
  'setcookie',
  'xapikey',
  'awsaccesskeyid',
  'xamzcredential',
  'xamzsecuritytoken',
  'xgoogsignature',
  'xgoogcredential',
]);

/** Names whose sensitivity is remembered; the cache starts over when full. */
const MAX_CACHED_NAMES = 1000;

/** Sensitive names: the defaults and extra ones. Instances are safe to share. */
export class SensitiveNames {
  readonly #words: ReadonlySet<string>;
  readonly #compactNames: ReadonlySet<string>;
  readonly #cache = new Map<string, boolean>();

  /** `extraKeys` are matched as whole names and as words of names, case-insensitively. */
  constructor(extraKeys: readonly string[]) {
    const extra = extraKeys.map((k) => compactName(k)).filter((k) => k.length > 0);
    this.#words = new Set([...DEFAULT_SENSITIVE_WORDS, ...extra]);
    this.#compactNames = new Set([...SENSITIVE_COMPACT_NAMES, ...extra]);
  }

  /** Whether a parameter, header or field name looks like it holds a secret. */
  has(name: string): boolean {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    // Separators and control bytes (`pass\u0000word`, `pass-word`) do not hide a name.
    const compacted = compactName(name);
    const result =
      this.#compactNames.has(compacted) ||
      this.#isSensitiveWord(compacted) ||
      splitWords(name).some((w) => this.#isSensitiveWord(w));
    // Names come from requests, so the cache is bounded.
    if (this.#cache.size >= MAX_CACHED_NAMES) this.#cache.clear();
    this.#cache.set(name, result);
    return result;
  }

  #isSensitiveWord(word: string): boolean {
    return this.#words.has(word) || SENSITIVE_WORD_ENDINGS.test(word) || SENSITIVE_WORD_STARTS.test(word);
  }
}

/** A name lower-cased with everything but letters and digits removed: `X-Api_Key` → `xapikey`. */
export function compactName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The words of a name, lower-cased: split at separators, camelCase humps and acronyms (`HTMLParser`). */
export function splitWords(name: string): string[] {
  return (
    name
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      // `HTMLParser` → `HTML Parser`, with a lookahead: `([A-Z]+)([A-Z][a-z])` backtracks
      // quadratically on a long run of capitals, and names come from requests.
      .replace(/([A-Z])(?=[A-Z][a-z])/g, '$1 ')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 0)
  );
}

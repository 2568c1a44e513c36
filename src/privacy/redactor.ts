import { normalizeUserId } from './normalize-user-id.js';
import { PrivacyPolicy, type UserIdMode } from './privacy-policy.js';
import { redactPathTokens } from './redact-path-tokens.js';
import { safeDecodeURIComponent } from './safe-decode-uri-component.js';
import { SensitiveNames } from './sensitive-names.js';
import { isProseWord, looksLikeCredential, redactSecretPhrases } from './secret-phrases.js';
import { isUserKey, keepUserValue, replaceEmails, type KeepUserId } from './user-identifiers.js';

/** What a redacted value is replaced with; the key is kept so readers see what was there. */
export const REDACTED = 'REDACTED';

/** Value shapes that are secrets wherever they appear in free text. */
const SECRET_VALUE_PATTERNS: readonly RegExp[] = [
  // PEM private keys, possibly cut off before their END line.
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  // JSON Web Tokens. A lookbehind, not \b: with \b, a run like "eyJ-eyJ-..." restarted the
  // match at every "eyJ" and each restart scanned to the end (quadratic: 9 s for 100 KB).
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  // OpenAI / Anthropic style keys (sk-..., sk-ant-..., sk-proj-...).
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // Google API keys.
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // GitHub and Slack tokens.
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
];

/**
 * Text none of {@link SECRET_VALUE_PATTERNS} can match lacks all of these: one scan instead of
 * seven for the common case (every path, every query value).
 */
const SECRET_VALUE_HINT = /eyJ|sk-|AIza|AKIA|ASIA|gh[pousr]_|xox[abprs]-|-----BEGIN/;

/**
 * `Bearer <token>`, `Basic <creds>` and friends: keep the scheme, drop the credential. After
 * `Bearer` anything goes; after the others a credential must have a digit, a symbol or mixed
 * case, or be long, so prose such as "Token expired" or "Basic authentication failed" stays.
 */
const AUTH_SCHEME_PATTERN = /\b(Bearer|Basic|Token|Digest)\s+([A-Za-z0-9._~+/=-]{6,})/gi;
/** `name: value` inside text (`password: hunter2`, `x-api-key: 'abc'`); the value is one word or quoted. */
const COLON_PAIR_PATTERN =
  /(?<![A-Za-z0-9_.-])([A-Za-z][A-Za-z0-9_.-]{0,63})(\s*:\s*)("[^"\n]{1,200}"|'[^'\n]{1,200}'|[^\s,;"'<>]+)/g;
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'token', 'digest']);
/** Userinfo of a URL anywhere inside text (`see https://bob:pw@host/...`). */
const TEXT_USERINFO_PATTERN = /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\s/?#@]+@/g;
/** Query values shorter than this are not scanned for secret shapes: no secret pattern is that short. */
const MIN_SECRET_VALUE_LENGTH = 8;
/** `name=value` pairs inside text (URLs, form bodies, log lines), the value possibly quoted. */
const PAIR_PATTERN = /([A-Za-z0-9_.[\]-]{1,64})=("[^"\n]{1,200}"|'[^'\n]{1,200}'|[^&\s;,"'<>]*)/g;
/** A path (`/reset/…`), or a URL with one (`https://x/reset/…`, `//x/reset/…`): the path is group 2. */
const LINKED_PATH_PATTERN = /^((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/[^/?#]*)?(\/[^?#]*)/;
const SLASH = 0x2f;
/** Query strings write a space as `+`. */
const QUERY = { plusIsSpace: true } as const;
/** `;name=value` parameters inside a path segment. */
const PATH_PARAM_PATTERN = /;([^;/=?#]{1,64})=[^;/?#]+/g;
/** `"name": "value"` pairs inside JSON-looking text. */
const JSON_PAIR_PATTERN = /"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
/** Userinfo in an absolute URL, up to its last `@` (as URL parsers read it). */
const URL_USERINFO_PATTERN = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#]*@/;
/** The password of a URL's userinfo, up to the last `@` before the host. */
const URL_PASSWORD_PATTERN = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^:/?#@]*:)[^/?#]*@/;

const MAX_OBJECT_DEPTH = 8;
/**
 * Free text longer than this is cut before it is scanned. It bounds the work the patterns do
 * on hostile input, and nothing longer is stored anyway (error messages keep 4 KB).
 */
export const MAX_REDACTED_TEXT_LENGTH = 8192;

/** Options of {@link Redactor}. */
export interface RedactorConfig {
  /** Extra sensitive names: matched as whole names and as words of names (case-insensitive). */
  extraKeys?: readonly string[];
  /**
   * How user ids are kept (`OTEL_ANALYTICS_USER_ID_MODE`). Under `hmac`, email addresses in
   * text, paths and values, and the values of fields that name a user (`email`, `username`,
   * `user_id`, ...), become the user's pseudonym, as `user_id` does; under `none` they are
   * redacted. Defaults to `plain`: they stay.
   */
  userIdMode?: UserIdMode;
  /** Key of the `hmac` mode; without it that mode redacts instead (fail closed). */
  hmacKey?: string;
}

/**
 * One redaction policy for everything that could carry a secret: query strings (inbound and
 * outbound), URLs with userinfo, paths, header values, auth-event metadata and free text such
 * as error messages. It runs before data becomes a span attribute. Instances are immutable
 * and safe to share.
 */
export class Redactor {
  readonly #names: SensitiveNames;
  /** How user identifiers outside `user_id` are kept; undefined when they stay as they are. */
  readonly #keepUserId: KeepUserId | undefined;

  constructor(config: RedactorConfig = {}) {
    this.#names = new SensitiveNames(config.extraKeys ?? []);
    const privacy = new PrivacyPolicy({
      trustedProxies: [],
      ipMode: 'full',
      userIdMode: config.userIdMode ?? 'plain',
      hmacKey: config.hmacKey,
    });
    // Normalized and kept as `user_id` is, so the two stay equal; redacted where it is not stored.
    this.#keepUserId = privacy.plainUserIds
      ? undefined
      : (id) => privacy.userId(normalizeUserId(id)) ?? REDACTED;
  }

  /** Whether a parameter, header or field name looks like it holds a secret. */
  isSensitiveKey(name: string): boolean {
    return this.#names.has(name);
  }

  /**
   * Redacts the values of sensitive parameters in a raw query string (without `?`), keeping
   * every other byte as it was so the result still parses the same way.
   */
  redactQuery(query: string): string {
    if (query.length === 0) return query;
    let changed = false;
    const parts = query.split('&');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const eq = part.indexOf('=');
      if (eq === -1 || part.length === eq + 1) continue;
      const rawKey = part.slice(0, eq);
      const key = safeDecodeURIComponent(rawKey, QUERY);
      if (this.isSensitiveKey(key)) {
        parts[i] = `${rawKey}=${REDACTED}`;
        changed = true;
      } else if (this.#keepUserId && isUserKey(key)) {
        const value = safeDecodeURIComponent(part.slice(eq + 1), QUERY);
        const kept = keepUserValue(value, this.#keepUserId, REDACTED);
        if (kept !== value) {
          parts[i] = `${rawKey}=${encodeURIComponent(kept)}`;
          changed = true;
        }
      } else if (part.length - eq > MIN_SECRET_VALUE_LENGTH || (this.#keepUserId && /@|%40/i.test(part))) {
        // A harmless name can still carry a secret (`?t=eyJ...`, `?next=https://x/?token=...`),
        // or a link's path (`?next=/reset/<token>`).
        const value = safeDecodeURIComponent(part.slice(eq + 1), QUERY);
        const redacted = this.#redactLinkedPath(this.redactText(value));
        if (redacted !== value) {
          parts[i] = `${rawKey}=${encodeURIComponent(redacted)}`;
          changed = true;
        }
      }
    }
    return changed ? parts.join('&') : query;
  }

  /** Redacts the path of a value that is a path or a URL (`/reset/…`, `https://x/reset/…`). */
  #redactLinkedPath(value: string): string {
    if (value.charCodeAt(0) !== SLASH && !value.includes('://')) return value;
    const match = LINKED_PATH_PATTERN.exec(value);
    if (match === null) return value;
    const path = match[2]!;
    const redacted = this.redactPath(path);
    if (redacted === path) return value;
    const start = match[1]?.length ?? 0;
    return `${value.slice(0, start)}${redacted}${value.slice(start + path.length)}`;
  }

  /** Redacts userinfo and sensitive query parameters of a URL; drops the fragment. */
  redactUrl(url: string): string {
    // Most URLs hold no `@`: then there is no userinfo to find.
    let result = url.includes('@') ? url.replace(URL_USERINFO_PATTERN, `$1${REDACTED}@`) : url;
    const hash = result.indexOf('#');
    if (hash !== -1) result = result.slice(0, hash);
    const q = result.indexOf('?');
    if (q === -1) return result;
    return `${result.slice(0, q + 1)}${this.redactQuery(result.slice(q + 1))}`;
  }

  /**
   * Redacts secrets inside free text such as an error message. Text beyond
   * {@link MAX_REDACTED_TEXT_LENGTH} characters is cut first (marked `…`).
   */
  redactText(text: string): string {
    let result =
      text.length > MAX_REDACTED_TEXT_LENGTH ? `${text.slice(0, MAX_REDACTED_TEXT_LENGTH)}…` : text;
    result = redactSecretShapes(result);
    result = redactSecretPhrases(result, REDACTED);
    result = result.replace(AUTH_SCHEME_PATTERN, (match: string, scheme: string, credential: string) =>
      scheme.toLowerCase() === 'bearer' || looksLikeCredential(credential) ? `${scheme} ${REDACTED}` : match,
    );
    if (result.includes('@')) result = result.replace(TEXT_USERINFO_PATTERN, `$1${REDACTED}@`);
    if (result.includes(':')) {
      result = result.replace(COLON_PAIR_PATTERN, (match: string, key: string, sep: string, raw: string) => {
        const quote = quoteOf(raw);
        const value = quote ? raw.slice(1, -1) : raw;
        return value !== REDACTED &&
          !AUTH_SCHEMES.has(value.toLowerCase()) &&
          // Prose such as "session: expired" stays; a password is anything but a word of prose.
          (looksLikeCredential(value) || quote !== '' || (/pass|pwd/i.test(key) && !isProseWord(value))) &&
          this.isSensitiveKey(key)
          ? `${key}${sep}${quote}${REDACTED}${quote}`
          : match;
      });
    }
    result = result.replace(PAIR_PATTERN, (match: string, key: string, raw: string) => {
      const quote = quoteOf(raw);
      return raw.length > quote.length * 2 && this.isSensitiveKey(key)
        ? `${key}=${quote}${REDACTED}${quote}`
        : match;
    });
    result = result.replace(JSON_PAIR_PATTERN, (match: string, key: string, sep: string, value: string) =>
      value.length > 0 && this.isSensitiveKey(key) ? `"${key}"${sep}"${REDACTED}"` : match,
    );
    if (this.#keepUserId) result = replaceEmails(result, this.#keepUserId, REDACTED);
    return result;
  }

  /**
   * Redacts secrets inside a URL path, where reset links and webhooks carry them: values that
   * are secrets by their shape (`/reset/eyJ...`), random-looking segments and those after a
   * link word (`/reset/<token>`, `/verify/482913`, see `redactPathTokens`), and sensitive
   * matrix parameters.
   */
  redactPath(path: string): string {
    let result = redactSecretShapes(path);
    // Matrix parameters: `/cart;jsessionid=ABC/checkout` keeps the name, loses the value.
    if (result.includes(';')) {
      result = result.replace(PATH_PARAM_PATTERN, (match: string, key: string) =>
        this.isSensitiveKey(key) ? `;${key}=${REDACTED}` : match,
      );
    }
    result = redactPathTokens(result, REDACTED);
    return this.#keepUserId ? replaceEmails(result, this.#keepUserId, REDACTED) : result;
  }

  /** Redacts a header value when the header name is sensitive (`authorization`, `cookie`...). */
  redactHeader(name: string, value: string): string {
    return this.isSensitiveKey(name) ? REDACTED : this.redactText(value);
  }

  /**
   * Returns a redacted deep copy of a plain value: sensitive keys lose their values, strings
   * are scanned for secrets. Functions, symbols and cycles are dropped.
   */
  redactObject(value: unknown): unknown {
    return this.#redactValue(value, 0, new WeakSet());
  }

  #redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object') return undefined;
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof Error) return this.redactText(value.message);
    if (depth >= MAX_OBJECT_DEPTH || seen.has(value)) return '[truncated]';
    // `seen` holds the ancestors only: an object referenced twice is not a cycle.
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((v) => this.#redactValue(v, depth + 1, seen));
      const entries: [string, unknown][] = [];
      for (const [key, v] of Object.entries(value)) {
        if (this.isSensitiveKey(key)) {
          entries.push([key, REDACTED]);
          continue;
        }
        if (this.#keepUserId && isUserKey(key) && isIdentifier(v)) {
          entries.push([key, keepUserValue(String(v), this.#keepUserId, REDACTED)]);
          continue;
        }
        const redacted = this.#redactValue(v, depth + 1, seen);
        if (redacted !== undefined) entries.push([key, redacted]);
      }
      // fromEntries defines keys such as `__proto__` as plain data, where assignment would not.
      return Object.fromEntries(entries);
    } finally {
      seen.delete(value);
    }
  }
}

/**
 * A connection string or URL with its password masked (`postgres://app:***@db/app`), for
 * messages. The password runs to the last `@` before the host; a `password=` parameter
 * (which libpq-style URLs allow) is masked too.
 */
export function maskUrlPassword(url: string): string {
  return url.replace(URL_PASSWORD_PATTERN, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Replaces every value that is a secret by its shape alone. */
function redactSecretShapes(text: string): string {
  if (!SECRET_VALUE_HINT.test(text)) return text;
  let result = text;
  for (const pattern of SECRET_VALUE_PATTERNS) result = result.replace(pattern, REDACTED);
  return result;
}

/** Whether a value can be a user's identifier as it is (objects under `user` are walked instead). */
function isIdentifier(value: unknown): value is string | number | bigint {
  return (
    typeof value === 'string' ||
    typeof value === 'bigint' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** The quote around a quoted value (`"` or `'`), or the empty string. */
function quoteOf(value: string): string {
  return value.length >= 2 && (value[0] === '"' || value[0] === "'") ? value[0] : '';
}

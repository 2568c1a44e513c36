import { normalizeUserId } from './normalize-user-id.js';
import { PSEUDONYM_PREFIX } from './pseudonymize.js';
import { compactName } from './sensitive-names.js';

// Who a user is, where it shows outside `user_id`: email addresses in free text, paths and
// query values, and the values of fields that name a user (`email`, `username`, `user_id`).
// Under `OTEL_ANALYTICS_USER_ID_MODE=hmac` they get the pseudonym `user_id` gets (so rows still
// join on it), under `none` they are redacted; under `plain` they stay.

/** How a user identifier found in text or a field is kept (as `user_id` is). */
export type KeepUserId = (id: string) => string;

/**
 * An email address: a local part, `@` (or `%40` in a URL), a domain with a dot. Each part is
 * bounded and the local part cannot start inside another, so the scan stays linear.
 */
const EMAIL_PATTERN =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}(?:@|%40)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/gi;
const EMAIL_HINT = /@|%40/i;
/**
 * Endings of file names that read as a top-level domain: `logo@2x.png`, `lodash@4.min.js`. None
 * is a real top-level domain (`.zip`, `.mov`, `.md` or `.py` are, and stay addresses).
 */
const FILE_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif webp avif svg ico bmp tif tiff heic css js mjs cjs map json html htm xml txt ' +
    'pdf woff ttf otf eot webm wasm'
  ).split(' '),
);

/** Replaces every email address in `text` with its kept form. */
export function replaceEmails(text: string, keep: KeepUserId, redacted: string): string {
  if (!EMAIL_HINT.test(text)) return text;
  return text.replace(EMAIL_PATTERN, (email: string) => {
    const decoded = email.replace(/%40/i, '@');
    // A URL's userinfo redacted before (`https://REDACTED@host`) is no address, nor is a file name.
    if (decoded.startsWith(`${redacted}@`)) return email;
    return FILE_EXTENSIONS.has(decoded.slice(decoded.lastIndexOf('.') + 1).toLowerCase())
      ? email
      : keep(decoded);
  });
}

/** Field and parameter names (lower case, separators removed) whose values name a user. */
const USER_KEYS = new Set([
  'email',
  'emailaddress',
  'mail',
  'useremail',
  'user',
  'username',
  'userid',
  'userlogin',
  'login',
  'loginname',
  'enduser',
  'enduserid',
  'accountemail',
  'customeremail',
]);

/** Whether a field or parameter name holds who a user is (`email`, `user_name`, `userId`). */
export function isUserKey(name: string): boolean {
  return USER_KEYS.has(compactName(name));
}

const PSEUDONYM = new RegExp(`^${PSEUDONYM_PREFIX}[A-Za-z0-9_-]{22}$`);

/**
 * The kept form of a value under a user-naming key. A pseudonym (already kept, by this
 * process or by a sender) and `redacted` stay as they are, so values are kept once however
 * many times they pass; so does a blank value, which names no one.
 */
export function keepUserValue(value: string, keep: KeepUserId, redacted: string): string {
  if (value === redacted || PSEUDONYM.test(value) || normalizeUserId(value) === undefined) return value;
  return keep(value);
}

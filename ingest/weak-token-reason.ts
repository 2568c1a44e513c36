/** Shortest token accepted off loopback: 32 characters of base64 are 192 random bits. */
export const MIN_INGEST_TOKEN_LENGTH = 32;
/**
 * Fewest different characters in a token accepted off loopback: a random token of 32
 * characters has about 13 even in hex; `aaaa…` or `abab…` has one or two.
 */
export const MIN_DISTINCT_CHARACTERS = 8;

/** How to make a token that passes, for messages. */
export const MAKE_TOKEN_HINT =
  'make one with `openssl rand -base64 32` or ' +
  "`node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\"`";

/**
 * Why a bearer token is too weak to guard a port reachable from the network, or `undefined`
 * when it is strong enough: it must have at least {@link MIN_INGEST_TOKEN_LENGTH} characters,
 * not mostly the same few (`aaaa…`, `abab…`). The reason never quotes the token.
 */
export function weakTokenReason(token: string): string | undefined {
  const characters = [...token];
  if (characters.length < MIN_INGEST_TOKEN_LENGTH) {
    return `it is shorter than ${MIN_INGEST_TOKEN_LENGTH} characters`;
  }
  if (new Set(characters).size < MIN_DISTINCT_CHARACTERS) {
    return `it has fewer than ${MIN_DISTINCT_CHARACTERS} different characters`;
  }
  return undefined;
}

import { isLoopbackHost } from './is-loopback-host.js';
import { MAKE_TOKEN_HINT, MIN_INGEST_TOKEN_LENGTH, weakTokenReason } from './weak-token-reason.js';

/**
 * Whitespace, which ends the token in `Authorization: Bearer <token>`, and control characters,
 * which Node's parser refuses in any header.
 */
const UNSENDABLE_IN_HEADER = /[\s\p{Cc}]/u;

/**
 * Checks that a listen address and token are a safe pair, and says how to fix it if not: on
 * anything but loopback, anyone who can reach the port could write rows, so a token is needed,
 * and one that cannot be guessed (see {@link weakTokenReason}). On loopback any token will do
 * that a sender can present: none can present one with whitespace or a control character, so
 * that is refused on any host. The message never quotes the token.
 */
export function checkIngestAccess(host: string, token: string | undefined): string | undefined {
  if (token !== undefined && UNSENDABLE_IN_HEADER.test(token)) {
    return (
      `refusing to listen on ${host}: OTEL_ANALYTICS_INGEST_TOKEN has whitespace or a control ` +
      'character in it, which no "Authorization: Bearer" header can carry, so every export ' +
      `would be refused. Use a token without them (${MAKE_TOKEN_HINT})`
    );
  }
  if (isLoopbackHost(host)) return undefined;
  if (token === undefined || token.length === 0) {
    return (
      `refusing to listen on ${host} without a token: anyone who can reach it could write rows. ` +
      `Set OTEL_ANALYTICS_INGEST_TOKEN to a random secret of at least ${MIN_INGEST_TOKEN_LENGTH} ` +
      `characters (${MAKE_TOKEN_HINT}; senders then send "Authorization: Bearer <token>"), ` +
      'or listen on 127.0.0.1 behind a proxy that authenticates'
    );
  }
  const weakness = weakTokenReason(token);
  if (weakness === undefined) return undefined;
  return (
    `refusing to listen on ${host} with a weak OTEL_ANALYTICS_INGEST_TOKEN (${weakness}): anyone ` +
    `who can reach it could guess it and write rows. Use a random secret of at least ` +
    `${MIN_INGEST_TOKEN_LENGTH} characters (${MAKE_TOKEN_HINT}), or listen on 127.0.0.1`
  );
}

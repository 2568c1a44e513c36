import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Compared in constant time:
 * both sides are hashed first (SHA-256), so neither the position of the first wrong byte nor
 * the token's length shows in the timing.
 */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || token.length === 0) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

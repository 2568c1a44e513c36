/** Longest user id stored; longer ids are cut. */
export const MAX_USER_ID_LENGTH = 256;

/**
 * A user id as stored: a non-empty string of at most {@link MAX_USER_ID_LENGTH} characters,
 * trimmed; numbers and bigints as their decimal text. Anything else (and a blank string) is no id.
 */
export function normalizeUserId(userId: unknown): string | undefined {
  if (typeof userId === 'number') return Number.isFinite(userId) ? String(userId) : undefined;
  if (typeof userId === 'bigint') return userId.toString();
  if (typeof userId !== 'string') return undefined;
  const trimmed = userId.trim();
  if (trimmed.length === 0) return undefined;
  return trimmed.length > MAX_USER_ID_LENGTH ? trimmed.slice(0, MAX_USER_ID_LENGTH) : trimmed;
}

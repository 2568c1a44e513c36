/**
 * `decodeURIComponent` that never throws: text with malformed percent-encoding (`%E0%A4%A`, a
 * lone `%`) is taken literally, since paths and queries come from clients. With `plusIsSpace`,
 * `+` is read as a space first, as query strings and form bodies write it.
 */
export function safeDecodeURIComponent(text: string, options?: { plusIsSpace?: boolean }): string {
  const spaced = options?.plusIsSpace === true && text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

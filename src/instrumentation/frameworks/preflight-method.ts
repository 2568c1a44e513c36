/**
 * The method a CORS preflight asks about (`Access-Control-Request-Method`, upper-cased), or
 * `undefined` when the request is not a preflight.
 */
export function preflightMethod(method: unknown, requestedMethod: unknown): string | undefined {
  if (typeof method !== 'string' || method.toUpperCase() !== 'OPTIONS') return undefined;
  if (typeof requestedMethod !== 'string') return undefined;
  const asked = requestedMethod.trim().toUpperCase();
  return asked.length > 0 && asked.length <= 32 ? asked : undefined;
}

import { context, type Span } from '@opentelemetry/api';
import { findRequestSpan, requestStateOf } from '../internal/request-state.js';
import { safeExecute } from '../internal/safe-execute.js';
import { ATTR_ENDUSER_ID } from '../semconv.js';

/** Longest user id stored; longer ids are cut. */
export const MAX_USER_ID_LENGTH = 256;

/**
 * Attributes the request being served, and the outbound calls made while serving it (those
 * that finished earlier included), to `userId`. A no-op outside a request or when the SDK is
 * not started; never throws.
 *
 * ```ts
 * app.use((req, _res, next) => { if (req.session?.userId) setUser(req.session.userId); next(); });
 * ```
 */
export function setUser(userId: string | number): void {
  safeExecute(
    'setUser',
    () => {
      const id = normalizeUserId(userId);
      if (id === undefined) return;
      const requestSpan = findRequestSpan(context.active());
      if (!requestSpan) return;
      requestStateOf(requestSpan).userId = id;
      const span = requestSpan as Partial<Span>;
      if (span.isRecording?.()) span.setAttribute?.(ATTR_ENDUSER_ID, id);
    },
    undefined,
  );
}

/** A user id as stored: a non-empty string of at most {@link MAX_USER_ID_LENGTH} characters. */
export function normalizeUserId(userId: unknown): string | undefined {
  if (typeof userId === 'number') return Number.isFinite(userId) ? String(userId) : undefined;
  if (typeof userId === 'bigint') return userId.toString();
  if (typeof userId !== 'string') return undefined;
  const trimmed = userId.trim();
  if (trimmed.length === 0) return undefined;
  return trimmed.length > MAX_USER_ID_LENGTH ? trimmed.slice(0, MAX_USER_ID_LENGTH) : trimmed;
}

import { context, type Span } from '@opentelemetry/api';
import { findRequestSpan, requestStateOf } from '../pipeline/request-state.js';
import { safeExecute } from '../support/safe-execute.js';
import { activePrivacy } from '../pipeline/active-pipeline.js';
import { normalizeUserId } from '../privacy/normalize-user-id.js';
import { ATTR_ENDUSER_ID, ATTR_ENDUSER_PSEUDO_ID } from '../semconv.js';

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
      const id = keptUserId(userId);
      if (id !== undefined) attributeRequestTo(id);
    },
    undefined,
  );
}

/** Attributes the request being served to a user id already as kept (see {@link keptUserId}). */
export function attributeRequestTo(keptId: string): void {
  const requestSpan = findRequestSpan(context.active());
  if (!requestSpan) return;
  requestStateOf(requestSpan).userId = keptId;
  const span = requestSpan as Partial<Span>;
  if (span.isRecording?.()) span.setAttribute?.(userIdAttribute(), keptId);
}

/** A user id as the privacy options keep it: normalized, then as given, pseudonymized or not at all. */
export function keptUserId(userId: unknown): string | undefined {
  return activePrivacy().userId(normalizeUserId(userId));
}

/** The attribute kept user ids go in: `enduser.id`, or `enduser.pseudo.id` for pseudonyms. */
export function userIdAttribute(): string {
  return activePrivacy().pseudonymousUsers ? ATTR_ENDUSER_PSEUDO_ID : ATTR_ENDUSER_ID;
}

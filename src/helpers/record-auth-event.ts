import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { ATTR_NETWORK_PEER_ADDRESS, ATTR_USER_AGENT_ORIGINAL } from '@opentelemetry/semantic-conventions';
import { activePrivacy, activeRedactor } from '../pipeline/active-pipeline.js';
import { createLogger } from '../support/diag.js';
import { findRequestSpan } from '../pipeline/request-state.js';
import { safeExecute } from '../support/safe-execute.js';
import {
  ATTR_ANALYTICS_AUTH_EVENT_TYPE,
  ATTR_ANALYTICS_AUTH_METADATA,
  ATTR_ANALYTICS_AUTH_SUCCESS,
  ATTR_ANALYTICS_CLIENT_ADDRESS,
  ATTR_ANALYTICS_RECORD,
  ATTR_ERROR_MESSAGE,
  RECORD_AUTH,
  TRACER_NAME,
} from '../semconv.js';
import { VERSION } from '../version.js';
import { attributeRequestTo, keptUserId, userIdAttribute } from './set-user.js';

/** The event types of the original app; any other short string is accepted too. */
export type AuthEventType = 'signup' | 'login' | 'login_failed' | 'logout' | 'password_reset' | (string & {});

/** An authentication event, as the app's auth code reports it. */
export interface AuthEvent {
  type: AuthEventType;
  /** Who: the user signing up, logging in, or the login name that failed. */
  userId?: string | number;
  /** Defaults to `false` for `login_failed`, `true` otherwise. */
  success?: boolean;
  /** Why it failed. */
  error?: string | Error;
  /** Details; redacted like everything else (never put a password here, but if you do, it is removed). */
  metadata?: Record<string, unknown>;
  /** Defaults to the client address of the request being served. */
  ip?: string;
  /** Defaults to the user agent of the request being served. */
  userAgent?: string;
}

/** Longest event type stored. */
export const MAX_AUTH_EVENT_TYPE_LENGTH = 64;
/** Largest serialized metadata kept, in characters. */
export const MAX_AUTH_METADATA_LENGTH = 16_384;

const logger = createLogger('auth');

/**
 * Records an authentication event (`authentication_log`), never sampled away. IP and user
 * agent come from the request being served unless given. A successful `login` or `signup`
 * also attributes the request to `userId`. A no-op when the SDK is not started; never throws.
 *
 * ```ts
 * recordAuthEvent({ type: 'login_failed', userId: email, error: 'bad password' });
 * recordAuthEvent({ type: 'login', userId: user.id, metadata: { method: 'password' } });
 * ```
 */
export function recordAuthEvent(event: AuthEvent): void {
  safeExecute(
    'recordAuthEvent',
    () => {
      const type = normalizeEventType(event?.type);
      if (type === undefined) {
        logger.warn('recordAuthEvent: ignoring an event without a valid type');
        return;
      }
      const redactor = activeRedactor();
      const parent = context.active();
      const requestAttributes = spanAttributes(findRequestSpan(parent));
      const success = typeof event.success === 'boolean' ? event.success : type !== 'login_failed';
      const attributes: Attributes = {
        [ATTR_ANALYTICS_RECORD]: RECORD_AUTH,
        [ATTR_ANALYTICS_AUTH_EVENT_TYPE]: type,
        [ATTR_ANALYTICS_AUTH_SUCCESS]: success,
      };
      const userId = keptUserId(event.userId);
      if (userId !== undefined) attributes[userIdAttribute()] = userId;
      // The request's addresses are kept as the privacy options say already; a given one is not.
      const ip =
        typeof event.ip === 'string' && event.ip.length > 0
          ? activePrivacy().address(event.ip)
          : stringOr(
              requestAttributes[ATTR_ANALYTICS_CLIENT_ADDRESS],
              requestAttributes[ATTR_NETWORK_PEER_ADDRESS],
            );
      if (ip !== undefined) attributes[ATTR_ANALYTICS_CLIENT_ADDRESS] = ip;
      const userAgent = stringOr(event.userAgent, requestAttributes[ATTR_USER_AGENT_ORIGINAL]);
      if (userAgent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
      const error = event.error instanceof Error ? event.error.message : event.error;
      if (typeof error === 'string' && error.length > 0) {
        attributes[ATTR_ERROR_MESSAGE] = redactor.redactText(error);
      }
      if (event.metadata !== undefined && event.metadata !== null) {
        const json = JSON.stringify(redactor.redactObject(event.metadata));
        if (json !== undefined) {
          attributes[ATTR_ANALYTICS_AUTH_METADATA] =
            json.length <= MAX_AUTH_METADATA_LENGTH ? json : JSON.stringify({ truncated: true });
        }
      }
      const span = trace
        .getTracer(TRACER_NAME, VERSION)
        .startSpan(`auth ${type}`, { kind: SpanKind.INTERNAL, attributes }, parent);
      span.end();
      if (success && userId !== undefined && (type === 'login' || type === 'signup'))
        attributeRequestTo(userId);
    },
    undefined,
  );
}

function normalizeEventType(type: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  const trimmed = type.trim();
  if (trimmed.length === 0) return undefined;
  return trimmed.slice(0, MAX_AUTH_EVENT_TYPE_LENGTH);
}

function spanAttributes(span: object | undefined): Attributes {
  const attributes = (span as { attributes?: unknown } | undefined)?.attributes;
  return typeof attributes === 'object' && attributes !== null ? (attributes as Attributes) : {};
}

function stringOr(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === 'string' && value.length > 0) return value;
  return undefined;
}

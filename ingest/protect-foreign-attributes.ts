import { SpanKind, type Attributes } from '@opentelemetry/api';
import { ATTR_CLIENT_ADDRESS, ATTR_NETWORK_PEER_ADDRESS } from '@opentelemetry/semantic-conventions';
import { normalizeUserId } from '../src/privacy/normalize-user-id.js';
import type { PrivacyPolicy } from '../src/privacy/privacy-policy.js';
import {
  ATTR_ANALYTICS_AUTH_EVENT_TYPE,
  ATTR_ANALYTICS_CLIENT_ADDRESS,
  ATTR_ENDUSER_ID,
  ATTR_ENDUSER_PSEUDO_ID,
} from '../src/semconv.js';

/** Old names of the addresses: removed once decided, so the mapping cannot read them back. */
const OLD_ADDRESS_NAMES = ['net.peer.ip', 'net.sock.peer.addr', 'http.client_ip'];

/**
 * Applies the privacy options to a span received from another service (its stable HTTP names
 * filled in already), as our instrumentation hooks do in-process:
 *
 * - a request span's client: the sender's `client.address` (which its SDK takes from
 *   `X-Forwarded-For`, so anyone can write it) is believed only when the socket peer
 *   (`network.peer.address`) is a trusted proxy (`OTEL_ANALYTICS_TRUSTED_PROXIES`), one hop,
 *   as Express would with that header; otherwise the client is the peer;
 * - an auth event's client: the `client.address` (or `analytics.client.address`) the service
 *   sent, since it is the one that knows (as `recordAuthEvent({ ip })`);
 * - every address as `OTEL_ANALYTICS_IP_MODE` keeps them, and `enduser.id` as
 *   `OTEL_ANALYTICS_USER_ID_MODE` does (a pseudonym goes in `enduser.pseudo.id`; an
 *   `enduser.pseudo.id` the sender made itself is kept as it is).
 *
 * Pure; returns a new object.
 */
export function protectForeignAttributes(
  attributes: Attributes,
  kind: SpanKind,
  privacy: PrivacyPolicy,
): Attributes {
  const out: Attributes = { ...attributes };
  const claimed = text(out[ATTR_ANALYTICS_CLIENT_ADDRESS]) ?? text(out[ATTR_CLIENT_ADDRESS]);
  const peer = text(out[ATTR_NETWORK_PEER_ADDRESS]);
  for (const name of [ATTR_ANALYTICS_CLIENT_ADDRESS, ATTR_CLIENT_ADDRESS, ...OLD_ADDRESS_NAMES])
    delete out[name];
  if (typeof out[ATTR_ANALYTICS_AUTH_EVENT_TYPE] === 'string') {
    set(out, ATTR_ANALYTICS_CLIENT_ADDRESS, privacy.address(claimed));
  } else if (kind === SpanKind.SERVER) {
    const forwarded = claimed !== undefined && claimed !== peer ? { 'x-forwarded-for': claimed } : {};
    const kept = privacy.requestAddresses(peer, forwarded);
    set(out, ATTR_ANALYTICS_CLIENT_ADDRESS, kept.client);
    set(out, ATTR_CLIENT_ADDRESS, kept.client);
    set(out, ATTR_NETWORK_PEER_ADDRESS, kept.peer);
  }
  const userId = normalizeUserId(out[ATTR_ENDUSER_ID]);
  delete out[ATTR_ENDUSER_ID];
  // Under `none` no user id is kept, the sender's own pseudonyms included.
  if (privacy.userId('probe') === undefined) delete out[ATTR_ENDUSER_PSEUDO_ID];
  const keptUser = privacy.userId(userId);
  if (keptUser !== undefined) {
    set(out, privacy.pseudonymousUsers ? ATTR_ENDUSER_PSEUDO_ID : ATTR_ENDUSER_ID, keptUser);
  }
  return out;
}

function set(attributes: Attributes, name: string, value: string | undefined): void {
  if (value === undefined) delete attributes[name];
  else attributes[name] = value;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

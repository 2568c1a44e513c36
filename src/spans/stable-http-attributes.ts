import { SpanKind, type Attributes } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import { ATTR_HTTP_REQUEST_BODY_SIZE, ATTR_HTTP_RESPONSE_BODY_SIZE } from '../semconv.js';

/**
 * HTTP attribute names of the semantic conventions before 1.23 (the "old" names), and the
 * stable name each becomes. Other languages' SDKs still emit them by default (Python's
 * instrumentations until `OTEL_SEMCONV_STABILITY_OPT_IN=http`, older Go `otelhttp`, Java
 * agents before 2.0), so spans received over OTLP are read through this table. Copied rather
 * than imported: `@opentelemetry/semantic-conventions` keeps them only as deprecated exports.
 */
const RENAMED: readonly (readonly [old: string, stable: string])[] = [
  ['http.method', ATTR_HTTP_REQUEST_METHOD],
  ['http.status_code', ATTR_HTTP_RESPONSE_STATUS_CODE],
  ['http.user_agent', ATTR_USER_AGENT_ORIGINAL],
  ['http.url', ATTR_URL_FULL],
  ['http.scheme', ATTR_URL_SCHEME],
  ['net.sock.peer.addr', ATTR_NETWORK_PEER_ADDRESS],
  ['net.peer.ip', ATTR_NETWORK_PEER_ADDRESS],
  ['http.request_content_length', ATTR_HTTP_REQUEST_BODY_SIZE],
  ['http.response_content_length', ATTR_HTTP_RESPONSE_BODY_SIZE],
  // Go otelhttp (semconv 1.20) counts the bytes its handler read and wrote.
  ['http.read_bytes', ATTR_HTTP_REQUEST_BODY_SIZE],
  ['http.wrote_bytes', ATTR_HTTP_RESPONSE_BODY_SIZE],
];

/** Old names whose meaning depends on the side: `net.peer.*` is the client on a server span. */
const RENAMED_SERVER: readonly (readonly [old: string, stable: string])[] = [
  ['http.client_ip', ATTR_CLIENT_ADDRESS],
  ['net.host.name', ATTR_SERVER_ADDRESS],
  ['net.host.port', ATTR_SERVER_PORT],
];
const RENAMED_CLIENT: readonly (readonly [old: string, stable: string])[] = [
  ['net.peer.name', ATTR_SERVER_ADDRESS],
  ['net.peer.port', ATTR_SERVER_PORT],
];

/**
 * The attributes of an HTTP span with the stable names filled in from the old ones (see
 * `RENAMED`), so one mapping reads spans of every SDK. A stable name already present wins.
 * `http.target` (path and query) becomes `url.path` and `url.query`; a full URL gives the path,
 * query and host when nothing else does. Returns `attributes` itself when nothing is missing.
 * Pure; values are copied as they are (redaction happens where they become rows).
 */
export function withStableHttpAttributes(attributes: Attributes, kind: SpanKind): Attributes {
  let out: Attributes | undefined;
  const fill = (name: string, value: unknown): void => {
    if (value === undefined || value === null || value === '') return;
    if ((out ?? attributes)[name] !== undefined) return;
    (out ??= { ...attributes })[name] = value;
  };
  for (const [old, stable] of RENAMED) fill(stable, attributes[old]);
  const sided = kind === SpanKind.SERVER ? RENAMED_SERVER : kind === SpanKind.CLIENT ? RENAMED_CLIENT : [];
  for (const [old, stable] of sided) fill(stable, attributes[old]);
  const current = (): Attributes => out ?? attributes;
  if (current()[ATTR_URL_PATH] === undefined) {
    const target = text(attributes['http.target']);
    const parts = target !== undefined ? splitTarget(target) : urlParts(text(current()[ATTR_URL_FULL]));
    if (parts) {
      fill(ATTR_URL_PATH, parts.path);
      if (current()[ATTR_URL_QUERY] === undefined) fill(ATTR_URL_QUERY, parts.query);
    }
  }
  if (current()[ATTR_SERVER_ADDRESS] === undefined && kind === SpanKind.CLIENT) {
    fill(ATTR_SERVER_ADDRESS, urlParts(text(current()[ATTR_URL_FULL]))?.host);
  }
  return out ?? attributes;
}

/** Path and query of a request target (`/items/42?x=1#frag`); the fragment is never sent, so dropped. */
function splitTarget(target: string): { path: string; query: string | undefined } {
  const hash = target.indexOf('#');
  const withoutFragment = hash === -1 ? target : target.slice(0, hash);
  const mark = withoutFragment.indexOf('?');
  if (mark === -1) return { path: withoutFragment || '/', query: undefined };
  return { path: withoutFragment.slice(0, mark) || '/', query: withoutFragment.slice(mark + 1) || undefined };
}

function urlParts(
  full: string | undefined,
): { path: string; query: string | undefined; host: string | undefined } | undefined {
  if (full === undefined) return undefined;
  try {
    const url = new URL(full);
    // The raw path as sent, not the WHATWG-normalized one: `pathname` would resolve `..`.
    const afterAuthority = full.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
    const { path, query } = splitTarget(
      afterAuthority.startsWith('/') ? afterAuthority : `/${afterAuthority}`,
    );
    return { path, query, host: url.hostname.replace(/^\[|\]$/g, '') || undefined };
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

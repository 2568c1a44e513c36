import { STATUS_CODES } from 'node:http';
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import { classifySpan } from '../src/spans/classify-span.js';
import { normalizeIp } from '../src/privacy/ip-address.js';
import { normalizePath } from '../src/spans/normalize-path.js';
import { spanErrorMessage } from '../src/spans/span-error.js';
import { withStableHttpAttributes } from '../src/spans/stable-http-attributes.js';
import type { Redactor } from '../src/privacy/redactor.js';
import {
  ATTR_ANALYTICS_ABORTED,
  ATTR_ANALYTICS_AUTH_EVENT_TYPE,
  ATTR_ANALYTICS_AUTH_METADATA,
  ATTR_ANALYTICS_AUTH_SUCCESS,
  ATTR_ANALYTICS_CLIENT_ADDRESS,
  ATTR_ANALYTICS_COST_USD,
  ATTR_ANALYTICS_INCOMPLETE,
  ATTR_ANALYTICS_NO_RESPONSE,
  ATTR_ANALYTICS_SAMPLE_WEIGHT,
  ATTR_ANALYTICS_SLOW,
  ATTR_ENDUSER_ID,
  ATTR_ENDUSER_PSEUDO_ID,
  ATTR_ERROR_MESSAGE,
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_REQUEST_HEADER_PREFIX,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
  ATTR_SERVICE_PEER_NAME,
  RECORD_API,
  RECORD_AUTH,
  RECORD_EXTERNAL,
} from '../src/semconv.js';
import type { ReadableSpanLike } from '../src/span-types.js';
import { CALL_METADATA_KEYS } from '../database/call-metadata-keys.js';
import { queryParamsOf } from './query-params.js';
import type { UnroutedEndpointGuard } from './unrouted-endpoint-guard.js';
import type {
  ApiAccessLogRow,
  AuthenticationLogRow,
  ExternalApiCallLogRow,
  TableRow,
} from '../database/analytics-database.js';
import {
  TEXT_LIMITS,
  sanitizeFinite,
  sanitizeInteger,
  sanitizeJson,
  sanitizeSize,
  sanitizeText,
} from '../database/sanitize.js';

/** Largest value `numeric(14,8)` holds. */
const MAX_COST_USD = 999_999.99999999;
/** Why a request got no response, as its row says it (`analytics.no_response`). */
const NO_RESPONSE_MESSAGES: Readonly<Record<string, string>> = {
  client_closed: 'the client closed the connection before a response',
  process_stopped: 'the process stopped (on a signal) before a response',
  unknown: 'the connection closed before a response',
};
/** The endpoint of a request no route matched (404 or 405): scanners' paths are not endpoints. */
const UNMATCHED_ENDPOINT = '(unmatched)';

/**
 * Maps a finished span to the row it becomes, or `undefined` for spans that become none.
 * Pure: no I/O, no clock. Every value is made safe for PostgreSQL here, and text that could
 * hold a secret (query strings, URLs, error messages) is redacted again, so spans from other
 * pipelines cannot carry one into the database either.
 *
 * `endpoints`, when given, bounds the distinct endpoints of unrouted requests per service; it
 * is the one piece of state the mapping uses, and its owner (the exporter) keeps it.
 */
export function spanToRow(
  span: ReadableSpanLike,
  redactor: Redactor,
  endpoints?: UnroutedEndpointGuard,
): TableRow | undefined {
  switch (classifySpan(span)) {
    case RECORD_API:
      return { table: 'api_access_log', row: apiRow(span, redactor, endpoints) };
    case RECORD_AUTH:
      return { table: 'authentication_log', row: authRow(span, redactor) };
    case RECORD_EXTERNAL:
      return { table: 'external_api_call_log', row: externalRow(span, redactor) };
    default:
      return undefined;
  }
}

function apiRow(
  span: ReadableSpanLike,
  redactor: Redactor,
  endpoints?: UnroutedEndpointGuard,
): ApiAccessLogRow {
  const a = withStableHttpAttributes(span.attributes, span.kind);
  const metadata: Record<string, unknown> = {};
  const path = redactor.redactPath(str(a[ATTR_URL_PATH]) ?? '/');
  const route = str(a[ATTR_HTTP_ROUTE]);
  const noResponse = noResponseReason(a[ATTR_ANALYTICS_NO_RESPONSE]);
  // A response never sent still has its default status (200): the client saw none.
  const status = noResponse ? null : httpStatus(a[ATTR_HTTP_RESPONSE_STATUS_CODE], metadata);
  const client = normalizeIp(a[ATTR_ANALYTICS_CLIENT_ADDRESS] ?? a[ATTR_NETWORK_PEER_ADDRESS]);
  const peer = normalizeIp(a[ATTR_NETWORK_PEER_ADDRESS]);
  if (client.raw !== undefined) metadata.invalid_ip_address = client.raw;
  if (peer.raw !== undefined) metadata.invalid_peer_address = peer.raw;
  if (a[ATTR_ANALYTICS_SLOW] === true) metadata.slow = true;
  if (a[ATTR_ANALYTICS_ABORTED] === true) metadata.aborted = true;
  if (noResponse) metadata.no_response = noResponse;
  const common = commonColumns(span);
  const endpoint = route ?? unroutedEndpoint(path, status, common.service_name, metadata, endpoints);
  const headers = capturedHeaders(a, redactor);
  if (headers) metadata.headers = headers;
  const query = queryParamsOf(str(a[ATTR_URL_QUERY]), redactor, metadata);
  const weight = sanitizeFinite(a[ATTR_ANALYTICS_SAMPLE_WEIGHT]);
  return {
    ...common,
    user_id: sanitizeText(str(a[ATTR_ENDUSER_ID] ?? a[ATTR_ENDUSER_PSEUDO_ID]), TEXT_LIMITS.indexed),
    endpoint: sanitizeText(endpoint, TEXT_LIMITS.indexed),
    path: sanitizeText(path, TEXT_LIMITS.path),
    method: sanitizeText(method(a), TEXT_LIMITS.short),
    status_code: status,
    response_time_ms: durationMillis(span.duration),
    ip_address: client.ip,
    peer_address: peer.ip,
    user_agent: sanitizeText(str(a[ATTR_USER_AGENT_ORIGINAL]), TEXT_LIMITS.userAgent),
    request_size: sanitizeSize(a[ATTR_HTTP_REQUEST_BODY_SIZE]),
    response_size: sanitizeSize(a[ATTR_HTTP_RESPONSE_BODY_SIZE]),
    query_params: query === undefined ? null : sanitizeJson(query, TEXT_LIMITS.queryParams),
    error_message: sanitizeText(
      errorMessage(span, status, redactor, false) ?? (noResponse && NO_RESPONSE_MESSAGES[noResponse]),
      TEXT_LIMITS.errorMessage,
    ),
    sample_weight: weight !== null && weight > 0 ? weight : 1,
    metadata: finishMetadata(metadata),
  };
}

function authRow(span: ReadableSpanLike, redactor: Redactor): AuthenticationLogRow {
  const a = withStableHttpAttributes(span.attributes, span.kind);
  const ip = normalizeIp(a[ATTR_ANALYTICS_CLIENT_ADDRESS]);
  let metadata: Record<string, unknown> = {};
  const details = str(a[ATTR_ANALYTICS_AUTH_METADATA]);
  if (details !== undefined) {
    try {
      const redacted = redactor.redactObject(JSON.parse(details));
      metadata = isPlainObject(redacted) ? { ...redacted } : { value: redacted };
    } catch {
      metadata = { unparsed_metadata: true };
    }
  }
  if (ip.raw !== undefined) metadata.invalid_ip_address = ip.raw;
  const message = str(a[ATTR_ERROR_MESSAGE]);
  const eventType =
    sanitizeText(str(a[ATTR_ANALYTICS_AUTH_EVENT_TYPE]) ?? 'unknown', TEXT_LIMITS.short) ?? 'unknown';
  // recordAuthEvent always sets the outcome; a span from another service may leave it out,
  // and then the helper's default applies (a failed login failed).
  const success = a[ATTR_ANALYTICS_AUTH_SUCCESS];
  return {
    ...commonColumns(span),
    user_id: sanitizeText(str(a[ATTR_ENDUSER_ID] ?? a[ATTR_ENDUSER_PSEUDO_ID]), TEXT_LIMITS.indexed),
    event_type: eventType,
    ip_address: ip.ip,
    user_agent: sanitizeText(str(a[ATTR_USER_AGENT_ORIGINAL]), TEXT_LIMITS.userAgent),
    success: typeof success === 'boolean' ? success : eventType !== 'login_failed',
    error_message: sanitizeText(message && redactor.redactText(message), TEXT_LIMITS.errorMessage),
    metadata: finishMetadata(metadata),
  };
}

function externalRow(span: ReadableSpanLike, redactor: Redactor): ExternalApiCallLogRow {
  const a = withStableHttpAttributes(span.attributes, span.kind);
  const metadata: Record<string, unknown> = {};
  const host = str(a[ATTR_SERVER_ADDRESS]);
  if (host !== undefined) metadata.host = host;
  if (a[ATTR_ANALYTICS_INCOMPLETE] === true) metadata.incomplete = true;
  copyAttributes(a, metadata, CALL_METADATA_ENTRIES);
  // Every price here is computed locally from the table; no provider we read reports a cost.
  if (a[ATTR_ANALYTICS_COST_USD] !== undefined) metadata.cost_source = 'local';
  const supabase = supabaseService(str(a[ATTR_SERVICE_PEER_NAME]), str(a[ATTR_URL_FULL]));
  if (supabase) Object.assign(metadata, supabase);
  const cost = sanitizeFinite(a[ATTR_ANALYTICS_COST_USD]);
  if (cost !== null && (cost < 0 || cost > MAX_COST_USD)) metadata.invalid_cost_estimate = cost;
  const status = httpStatus(a[ATTR_HTTP_RESPONSE_STATUS_CODE], metadata);
  return {
    ...commonColumns(span),
    user_id: sanitizeText(str(a[ATTR_ENDUSER_ID] ?? a[ATTR_ENDUSER_PSEUDO_ID]), TEXT_LIMITS.indexed),
    service: sanitizeText(str(a[ATTR_SERVICE_PEER_NAME]) ?? host, TEXT_LIMITS.indexed),
    endpoint: sanitizeText(callEndpoint(a, redactor), TEXT_LIMITS.path),
    method: sanitizeText(method(a), TEXT_LIMITS.short),
    status_code: status,
    response_time_ms: durationMillis(span.duration),
    cost_estimate: cost !== null && cost >= 0 && cost <= MAX_COST_USD ? cost : null,
    request_size: sanitizeSize(a[ATTR_HTTP_REQUEST_BODY_SIZE]),
    response_size: sanitizeSize(a[ATTR_HTTP_RESPONSE_BODY_SIZE]),
    error_message: sanitizeText(errorMessage(span, status, redactor, true), TEXT_LIMITS.errorMessage),
    metadata: finishMetadata(metadata),
  };
}

/**
 * The trace id a span without a valid one is stored under: OpenTelemetry's invalid trace id. On
 * Citus trace_id is the distribution column, which may not be null.
 */
const INVALID_TRACE_ID = '00000000000000000000000000000000';
const VALID_TRACE_ID = /^[0-9a-f]{32}$/i;

function commonColumns(span: ReadableSpanLike) {
  const { traceId, spanId } = span.spanContext();
  return {
    time: hrTimeToIso(span.startTime),
    trace_id: typeof traceId === 'string' && VALID_TRACE_ID.test(traceId) ? traceId : INVALID_TRACE_ID,
    span_id: sanitizeText(spanId, TEXT_LIMITS.short) ?? '',
    service_name: sanitizeText(str(span.resource.attributes[ATTR_SERVICE_NAME]), TEXT_LIMITS.short),
  };
}

/** ISO 8601 with microseconds (a JS `Date` would keep only milliseconds). */
export function hrTimeToIso(time: HrTime): string {
  const [seconds, nanos] = time;
  const safeSeconds = Number.isFinite(seconds) ? seconds : 0;
  // Rows come in bursts within one second: format the seconds part once per second.
  if (safeSeconds !== lastSeconds) {
    lastSeconds = safeSeconds;
    lastSecondsIso = new Date(safeSeconds * 1000).toISOString().slice(0, 19);
  }
  const micros = Number.isFinite(nanos) ? Math.floor(nanos / 1000) : 0;
  return `${lastSecondsIso}.${String(micros).padStart(6, '0')}Z`;
}

let lastSeconds = Number.NaN;
let lastSecondsIso = '';

function durationMillis(duration: HrTime): number | null {
  const ms = duration[0] * 1000 + duration[1] / 1e6;
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

function method(a: Attributes): string | undefined {
  return str(a[ATTR_HTTP_REQUEST_METHOD_ORIGINAL]) ?? str(a[ATTR_HTTP_REQUEST_METHOD]);
}

/**
 * The error of a request or call: the message set by the processor (a child's, or the span's
 * own, redacted), else the span's own, whatever the status; else the status text of a failed
 * status, else the error type (`ECONNREFUSED`). Redacted again: spans may come from other
 * pipelines. Without `clientErrors` (API rows) a 4xx with no thrown error has no message: the
 * app answered it on purpose (validation, auth, not found); a call's 4xx (a provider's 429)
 * is a failure of the app's.
 */
function errorMessage(
  span: ReadableSpanLike,
  status: number | null,
  redactor: Redactor,
  clientErrors: boolean,
): string | undefined {
  const message = str(span.attributes[ATTR_ERROR_MESSAGE]) ?? spanErrorMessage(span);
  if (message !== undefined) return redactor.redactText(message);
  if (status !== null && status >= 400) {
    return status < 500 && !clientErrors ? undefined : (STATUS_CODES[status] ?? `HTTP ${status}`);
  }
  const type = str(span.attributes[ATTR_ERROR_TYPE]);
  return type && redactor.redactText(type);
}

/**
 * The endpoint of a request no framework routed, and how it was made
 * (`metadata.endpoint_source`): `(unmatched)` for a 404 or 405, whatever was asked; else the
 * path's normalized shape, which `endpoints` may coarsen (`coarsened_path`) to keep the
 * service's distinct values bounded.
 */
function unroutedEndpoint(
  path: string,
  status: number | null,
  service: string | null,
  metadata: Record<string, unknown>,
  endpoints: UnroutedEndpointGuard | undefined,
): string {
  if (status === 404 || status === 405) {
    metadata.endpoint_source = 'unmatched';
    return UNMATCHED_ENDPOINT;
  }
  const shape = normalizePath(path);
  const endpoint = endpoints ? endpoints.admit(service, shape) : shape;
  metadata.endpoint_source = endpoint === shape ? 'normalized_path' : 'coarsened_path';
  return endpoint;
}

/**
 * An HTTP status code: 100 to 599, as RFC 9110 defines them (no SDK reports `-1` or `1000`;
 * `999`, which some sites send, is not HTTP's either). Anything else leaves the column null and
 * goes to `metadata.invalid_status_code` as it was (text cut to 64 characters), so it neither
 * lands in a status class nor disappears unseen.
 */
function httpStatus(value: unknown, metadata: Record<string, unknown>): number | null {
  if (value === undefined || value === null) return null;
  const status = sanitizeInteger(value);
  if (status !== null && status >= 100 && status <= 599) return status;
  metadata.invalid_status_code =
    typeof value === 'number'
      ? value
      : (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 64);
  return null;
}

/** `analytics.no_response` as a known reason (`unknown` for any other value), else undefined. */
function noResponseReason(value: unknown): string | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  return typeof value === 'string' && Object.hasOwn(NO_RESPONSE_MESSAGES, value) ? value : 'unknown';
}

/**
 * Which Supabase service a call used (`rest`, `auth`, `storage`, `functions`, `realtime`,
 * `graphql`) and the edge function's name: the drivers of its plan's overage (with the bytes).
 */
function supabaseService(
  service: string | undefined,
  url: string | undefined,
): Record<string, string> | undefined {
  if (service !== 'supabase' || url === undefined) return undefined;
  const match = /^[a-z]+:\/\/[^/]+\/(rest|auth|storage|functions|realtime|graphql)\/v1(?:\/([^/?#]+))?/.exec(
    url,
  );
  if (!match) return undefined;
  return match[1] === 'functions' && match[2] !== undefined
    ? { supabase_service: 'functions', supabase_function: match[2] }
    : { supabase_service: match[1]! };
}

/** The called URL without query or fragment (`https://api.openai.com/v1/chat/completions`). */
function callEndpoint(a: Attributes, redactor: Redactor): string | undefined {
  const full = str(a[ATTR_URL_FULL]);
  if (full === undefined) return undefined;
  const cut = full.search(/[?#]/);
  return redactor.redactPath(redactor.redactUrl(cut === -1 ? full : full.slice(0, cut)));
}

/** Allow-listed request headers, redacted again (a span from another pipeline may carry any). */
function capturedHeaders(a: Attributes, redactor: Redactor): Record<string, unknown> | undefined {
  let headers: Record<string, unknown> | undefined;
  // for...in, not Object.entries: this runs for every API row, and most have no headers.
  for (const key in a) {
    if (!key.startsWith(ATTR_HTTP_REQUEST_HEADER_PREFIX)) continue;
    const value = a[key];
    const name = key.slice(ATTR_HTTP_REQUEST_HEADER_PREFIX.length);
    const values = (Array.isArray(value) ? value : [value]).map((v) =>
      redactor.redactHeader(name, String(v)),
    );
    (headers ??= {})[name] = values;
  }
  return headers;
}

/** {@link CALL_METADATA_KEYS} as pairs, made once rather than for every call's row. */
const CALL_METADATA_ENTRIES: readonly (readonly [string, string])[] = Object.entries(CALL_METADATA_KEYS);

function copyAttributes(
  a: Attributes,
  into: Record<string, unknown>,
  names: readonly (readonly [string, string])[],
): void {
  for (const [attribute, key] of names) {
    const value = a[attribute];
    if (value !== undefined && value !== null) into[key] = value;
  }
}

/** Metadata as JSON; when too large, captured headers go first so the flags survive. */
function finishMetadata(metadata: Record<string, unknown>): string | null {
  if (Object.keys(metadata).length === 0) return null;
  const json = sanitizeJson(metadata, TEXT_LIMITS.metadata);
  if (metadata.headers === undefined || !json?.startsWith('{"truncated":true')) return json;
  const { headers: _dropped, ...rest } = metadata;
  return sanitizeJson({ ...rest, headers_dropped: true }, TEXT_LIMITS.metadata);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

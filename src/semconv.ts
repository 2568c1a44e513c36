/**
 * Span attribute names used by otel-pg-analytics.
 *
 * Stable OpenTelemetry names come from `@opentelemetry/semantic-conventions`. Names that are
 * still "Development" in the OTel registry are copied here, as OTel recommends, rather than
 * imported from the unstable `incubating` entry point. Names of our own use the `analytics.`
 * prefix so they can never collide with a convention.
 */

/** OTel (development): the end user the request or call is attributed to. */
export const ATTR_ENDUSER_ID = 'enduser.id';
/** A keyed pseudonym of the user (`userIdMode: 'hmac'`), in place of `enduser.id`. */
export const ATTR_ENDUSER_PSEUDO_ID = 'enduser.pseudo.id';
/** OTel (development): request body size in bytes. */
export const ATTR_HTTP_REQUEST_BODY_SIZE = 'http.request.body.size';
/** OTel (development): response body size in bytes. */
export const ATTR_HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size';
/** OTel (development): logical name of the remote service called (replaces `peer.service`). */
export const ATTR_SERVICE_PEER_NAME = 'service.peer.name';
/** OTel (development): a human-readable error message. */
export const ATTR_ERROR_MESSAGE = 'error.message';
/** OTel GenAI (development) attributes: set from the responses read, and read for cost. */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';

/** Of the cache writes, those kept an hour (priced higher by Anthropic). */
export const ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS = 'analytics.usage.cache_creation_1h.input_tokens';
/** The service tier the provider says it used (`flex`, `priority`, `batch`...). */
export const ATTR_ANALYTICS_USAGE_SERVICE_TIER = 'analytics.usage.service_tier';
/** The provider does not bill this request (counting tokens). */
export const ATTR_ANALYTICS_USAGE_FREE = 'analytics.usage.free';
/** The response broke off: its usage is what arrived. */
export const ATTR_ANALYTICS_USAGE_INCOMPLETE = 'analytics.usage.incomplete';
/** Records a dataset download delivered (BrightData snapshots are billed per record). */
export const ATTR_ANALYTICS_USAGE_RECORDS = 'analytics.usage.records';
/** Why no usage could be read from the response (`no_usage_in_response`, `body_too_large`...). */
export const ATTR_ANALYTICS_USAGE_UNKNOWN_REASON = 'analytics.usage.unknown_reason';

/** Which table a span becomes a row of: `api`, `auth` or `external`. */
export const ATTR_ANALYTICS_RECORD = 'analytics.record';
/** How many requests a kept API row stands for (1 / sampling rate for thinned rows). */
export const ATTR_ANALYTICS_SAMPLE_WEIGHT = 'analytics.sample_weight';
/** The client address as the trusted-proxy rules decide (by default the socket peer). */
export const ATTR_ANALYTICS_CLIENT_ADDRESS = 'analytics.client.address';
/** The request took at least the slow-request threshold. */
export const ATTR_ANALYTICS_SLOW = 'analytics.slow';
/** The response did not complete: the connection closed first. */
export const ATTR_ANALYTICS_ABORTED = 'analytics.aborted';
/**
 * The connection closed before any response reached it, so the client got no status:
 * `client_closed` (the client went away) or `process_stopped` (cut as the process stopped on a
 * signal). The span's status code is then only the default the response never sent.
 */
export const ATTR_ANALYTICS_NO_RESPONSE = 'analytics.no_response';
/** The span was still open after the bounded wait and was recorded as it stood. */
export const ATTR_ANALYTICS_INCOMPLETE = 'analytics.incomplete';
/** Estimated cost of an external call, in USD. */
export const ATTR_ANALYTICS_COST_USD = 'analytics.cost.usd';
/** How the cost was reckoned: `per_request`, `per_token`, `subscription`. */
export const ATTR_ANALYTICS_COST_MODEL = 'analytics.cost.model';
/** Why no cost could be given (for example `unknown_model`). */
export const ATTR_ANALYTICS_COST_UNKNOWN_REASON = 'analytics.cost.unknown_reason';
/** Where the price came from (source URL), when it was checked, the date it applies from, and the table version. */
export const ATTR_ANALYTICS_PRICE_SOURCE = 'analytics.price.source';
export const ATTR_ANALYTICS_PRICE_CHECKED_AT = 'analytics.price.checked_at';
export const ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM = 'analytics.price.effective_from';
export const ATTR_ANALYTICS_PRICE_TABLE_VERSION = 'analytics.price.table_version';
/** Authentication event: type (`login`, `login_failed`, ...), outcome, and redacted details as JSON. */
export const ATTR_ANALYTICS_AUTH_EVENT_TYPE = 'analytics.auth.event_type';
export const ATTR_ANALYTICS_AUTH_SUCCESS = 'analytics.auth.success';
export const ATTR_ANALYTICS_AUTH_METADATA = 'analytics.auth.metadata';

/** Prefix of captured (allow-listed, redacted) request header attributes, as in OTel semconv. */
export const ATTR_HTTP_REQUEST_HEADER_PREFIX = 'http.request.header.';

/** The record types, one per table. */
export const RECORD_API = 'api';
export const RECORD_AUTH = 'auth';
export const RECORD_EXTERNAL = 'external';
export type RecordType = typeof RECORD_API | typeof RECORD_AUTH | typeof RECORD_EXTERNAL;

/** Instrumentation scope of the spans this package creates itself (auth events). */
export const TRACER_NAME = 'otel-pg-analytics';

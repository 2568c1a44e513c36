import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanStatus } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type {
  ApiAccessLogRow,
  AuthenticationLogRow,
  ExternalApiCallLogRow,
  TableRow,
} from '../../database/analytics-database.js';
import { TEXT_LIMITS } from '../../database/sanitize.js';
import { hrTimeToIso, spanToRow } from '../../exporter/span-to-row.js';
import { UnroutedEndpointGuard } from '../../exporter/unrouted-endpoint-guard.js';
import { pseudonymizeUserId } from '../../src/privacy/pseudonymize.js';
import { REDACTED, Redactor } from '../../src/privacy/redactor.js';
import {
  ATTR_ANALYTICS_ABORTED,
  ATTR_ANALYTICS_AUTH_EVENT_TYPE,
  ATTR_ANALYTICS_AUTH_METADATA,
  ATTR_ANALYTICS_AUTH_SUCCESS,
  ATTR_ANALYTICS_CLIENT_ADDRESS,
  ATTR_ANALYTICS_COST_MODEL,
  ATTR_ANALYTICS_COST_UNKNOWN_REASON,
  ATTR_ANALYTICS_COST_USD,
  ATTR_ANALYTICS_INCOMPLETE,
  ATTR_ANALYTICS_PRICE_CHECKED_AT,
  ATTR_ANALYTICS_PRICE_SOURCE,
  ATTR_ANALYTICS_RECORD,
  ATTR_ANALYTICS_SAMPLE_WEIGHT,
  ATTR_ANALYTICS_SLOW,
  ATTR_ENDUSER_ID,
  ATTR_ERROR_MESSAGE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_REQUEST_HEADER_PREFIX,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
  ATTR_SERVICE_PEER_NAME,
  RECORD_EXTERNAL,
  TRACER_NAME,
} from '../../src/semconv.js';
import type { ReadableSpanLike, TimedEventLike } from '../../src/span-types.js';

const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
const UNDICI_SCOPE = '@opentelemetry/instrumentation-undici';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const START: HrTime = [1_700_000_000, 123_456_789];
const START_ISO = '2023-11-14T22:13:20.123456Z';

const redactor = new Redactor();

interface SpanInput {
  name?: string;
  kind?: SpanKind;
  scope?: string;
  attributes?: Attributes;
  status?: SpanStatus;
  events?: TimedEventLike[];
  startTime?: HrTime;
  duration?: HrTime;
  traceId?: string;
  spanId?: string;
}

function makeSpan(input: SpanInput = {}): ReadableSpanLike {
  const traceId = input.traceId ?? TRACE_ID;
  const spanId = input.spanId ?? SPAN_ID;
  const startTime = input.startTime ?? START;
  const duration = input.duration ?? [0, 12_500_000];
  return {
    name: input.name ?? 'GET',
    kind: input.kind ?? SpanKind.SERVER,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    startTime,
    endTime: [startTime[0] + duration[0], startTime[1] + duration[1]],
    duration,
    status: input.status ?? { code: SpanStatusCode.UNSET },
    attributes: input.attributes ?? {},
    events: input.events ?? [],
    links: [],
    ended: true,
    resource: { attributes: { 'service.name': 'svc' } },
    instrumentationScope: { name: input.scope ?? HTTP_SCOPE },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function apiSpan(attributes: Attributes = {}, rest: Omit<SpanInput, 'attributes'> = {}): ReadableSpanLike {
  return makeSpan({
    kind: SpanKind.SERVER,
    scope: HTTP_SCOPE,
    attributes: {
      [ATTR_HTTP_REQUEST_METHOD]: 'GET',
      [ATTR_URL_PATH]: '/api/items/42',
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
      [ATTR_NETWORK_PEER_ADDRESS]: '10.0.0.1',
      ...attributes,
    },
    ...rest,
  });
}

function authSpan(attributes: Attributes = {}): ReadableSpanLike {
  return makeSpan({
    name: 'auth login',
    kind: SpanKind.INTERNAL,
    scope: TRACER_NAME,
    attributes: { [ATTR_ANALYTICS_AUTH_EVENT_TYPE]: 'login', ...attributes },
  });
}

function externalSpan(
  attributes: Attributes = {},
  rest: Omit<SpanInput, 'attributes'> = {},
): ReadableSpanLike {
  return makeSpan({
    name: 'POST',
    kind: SpanKind.CLIENT,
    scope: UNDICI_SCOPE,
    attributes: {
      [ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [ATTR_URL_FULL]: 'https://api.example.com/v1/things',
      [ATTR_SERVER_ADDRESS]: 'api.example.com',
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
      ...attributes,
    },
    ...rest,
  });
}

function apiRow(span: ReadableSpanLike): ApiAccessLogRow {
  const result = spanToRow(span, redactor);
  if (result?.table !== 'api_access_log')
    throw new Error(`expected an api_access_log row, got ${result?.table}`);
  return result.row;
}

function authRow(span: ReadableSpanLike): AuthenticationLogRow {
  const result = spanToRow(span, redactor);
  if (result?.table !== 'authentication_log')
    throw new Error(`expected an authentication_log row, got ${result?.table}`);
  return result.row;
}

function externalRow(span: ReadableSpanLike): ExternalApiCallLogRow {
  const result = spanToRow(span, redactor);
  if (result?.table !== 'external_api_call_log') {
    throw new Error(`expected an external_api_call_log row, got ${result?.table}`);
  }
  return result.row;
}

function json(text: string | null): unknown {
  expect(text).not.toBeNull();
  return JSON.parse(text!);
}

function exception(message: string): TimedEventLike {
  return {
    name: 'exception',
    time: START,
    attributes: { 'exception.type': 'Error', 'exception.message': message },
  };
}

describe('spanToRow for API spans', () => {
  it('maps a server span of the HTTP instrumentation to every api_access_log column', () => {
    const span = apiSpan({
      [ATTR_HTTP_ROUTE]: '/api/items/:itemId',
      [ATTR_URL_QUERY]: 'q=shoes&tag=a&tag=b&api_key=sekrit',
      [ATTR_NETWORK_PEER_ADDRESS]: '::ffff:10.1.2.3',
      [ATTR_USER_AGENT_ORIGINAL]: 'curl/8.5.0',
      [ATTR_HTTP_REQUEST_BODY_SIZE]: 10,
      [ATTR_HTTP_RESPONSE_BODY_SIZE]: 2048,
      [ATTR_ENDUSER_ID]: 'user-1',
      [ATTR_ANALYTICS_SAMPLE_WEIGHT]: 2,
    });
    const result = spanToRow(span, redactor);
    expect(result?.table).toBe('api_access_log');
    const row = (result as Extract<TableRow, { table: 'api_access_log' }>).row;
    expect(row).toEqual({
      time: START_ISO,
      trace_id: TRACE_ID,
      span_id: SPAN_ID,
      service_name: 'svc',
      user_id: 'user-1',
      endpoint: '/api/items/:itemId',
      path: '/api/items/42',
      method: 'GET',
      status_code: 200,
      response_time_ms: 12.5,
      ip_address: '10.1.2.3',
      peer_address: '10.1.2.3',
      user_agent: 'curl/8.5.0',
      request_size: 10,
      response_size: 2048,
      query_params: expect.any(String),
      error_message: null,
      sample_weight: 2,
      metadata: null,
    });
    expect(json(row.query_params)).toEqual({ q: 'shoes', tag: ['a', 'b'], api_key: REDACTED });
  });

  it('uses the normalized path as the endpoint when there is no route template, and says so', () => {
    const row = apiRow(
      apiSpan({ [ATTR_URL_PATH]: '/api/items/42/reviews/3f2b8c1e-9d4a-4e7b-8c21-0a1b2c3d4e5f' }),
    );
    expect(row.endpoint).toBe('/api/items/:id/reviews/:id');
    expect(row.path).toBe('/api/items/42/reviews/3f2b8c1e-9d4a-4e7b-8c21-0a1b2c3d4e5f');
    expect(json(row.metadata)).toEqual({ endpoint_source: 'normalized_path' });
  });

  it.each([404, 405])('makes the endpoint of an unrouted %i (unmatched), keeping the path', (status) => {
    const row = apiRow(
      apiSpan({ [ATTR_URL_PATH]: '/wp-admin/setup.php', [ATTR_HTTP_RESPONSE_STATUS_CODE]: status }),
    );
    expect({ endpoint: row.endpoint, path: row.path, metadata: json(row.metadata) }).toEqual({
      endpoint: '(unmatched)',
      path: '/wp-admin/setup.php',
      metadata: { endpoint_source: 'unmatched' },
    });
  });

  it('keeps the route template of a routed request, whatever its status and shape', () => {
    const notFound = apiRow(
      apiSpan({
        [ATTR_HTTP_ROUTE]: '/users/{id}',
        [ATTR_URL_PATH]: '/users/7',
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 404,
      }),
    );
    const deep = apiRow(
      apiSpan({ [ATTR_HTTP_ROUTE]: '/a/b/c/d/e/f/g/:file.js', [ATTR_URL_PATH]: '/a/b/c/d/e/f/g/x.js' }),
    );
    expect([notFound.endpoint, notFound.metadata, deep.endpoint]).toEqual([
      '/users/{id}',
      null,
      '/a/b/c/d/e/f/g/:file.js',
    ]);
  });

  it('coarsens the endpoint of an unrouted request once the guard has no room, and says so', () => {
    const guard = new UnroutedEndpointGuard({ maxShapes: 1, maxPrefixes: 1 });
    const rows = ['/users/alice', '/users/bob', '/pages/about', '/users/alice'].map((path) => {
      const result = spanToRow(apiSpan({ [ATTR_URL_PATH]: path }), redactor, guard);
      const row = (result as Extract<TableRow, { table: 'api_access_log' }>).row;
      return { endpoint: row.endpoint, path: row.path, metadata: json(row.metadata) };
    });
    expect(rows).toEqual([
      { endpoint: '/users/alice', path: '/users/alice', metadata: { endpoint_source: 'normalized_path' } },
      { endpoint: '/users/*', path: '/users/bob', metadata: { endpoint_source: 'coarsened_path' } },
      { endpoint: '/*', path: '/pages/about', metadata: { endpoint_source: 'coarsened_path' } },
      { endpoint: '/users/alice', path: '/users/alice', metadata: { endpoint_source: 'normalized_path' } },
    ]);
  });

  it('redacts opaque tokens and link codes in the path and the endpoint', () => {
    const token = 'q7Xk2_Lm9PzR4vT0bYw1Nc8HdJ3sFa6GeU5iKo-B';
    const reset = apiRow(apiSpan({ [ATTR_URL_PATH]: `/reset/${token}` }));
    expect({ path: reset.path, endpoint: reset.endpoint }).toEqual({
      path: `/reset/${REDACTED}`,
      endpoint: `/reset/${REDACTED}`,
    });
    // Without the redactor the endpoint kept the code: it is no id by its shape.
    const invite = apiRow(apiSpan({ [ATTR_URL_PATH]: '/invite/ABCD-EFGH/accept' }));
    expect({ path: invite.path, endpoint: invite.endpoint }).toEqual({
      path: `/invite/${REDACTED}/accept`,
      endpoint: `/invite/${REDACTED}/accept`,
    });
  });

  it('stores emails and user-naming values as the pseudonym user_id gets under hmac', () => {
    const key = 'test-hmac-key-of-at-least-16-bytes';
    const pseudonym = pseudonymizeUserId('alice@example.com', key);
    const hmac = new Redactor({ userIdMode: 'hmac', hmacKey: key });
    const api = spanToRow(
      apiSpan({
        [ATTR_URL_PATH]: '/users/alice@example.com',
        [ATTR_URL_QUERY]: 'email=alice%40example.com&page=2',
        [ATTR_ERROR_MESSAGE]: 'no mailbox alice@example.com',
      }),
      hmac,
    )!.row as ApiAccessLogRow;
    expect(api).toMatchObject({
      path: `/users/${pseudonym}`,
      error_message: `no mailbox ${pseudonym}`,
    });
    expect(json(api.query_params)).toEqual({ email: pseudonym, page: '2' });
    const auth = spanToRow(
      authSpan({
        [ATTR_ERROR_MESSAGE]: 'no account for alice@example.com',
        [ATTR_ANALYTICS_AUTH_METADATA]: JSON.stringify({ email: 'alice@example.com', plan: 'pro' }),
      }),
      hmac,
    )!.row as AuthenticationLogRow;
    expect(auth.error_message).toBe(`no account for ${pseudonym}`);
    expect(json(auth.metadata)).toEqual({ email: pseudonym, plan: 'pro' });
  });

  it('uses / as the path when the span has none', () => {
    const row = apiRow(apiSpan({ [ATTR_URL_PATH]: undefined }));
    expect(row.path).toBe('/');
    expect(row.endpoint).toBe('/');
  });

  it('redacts every sensitive query value and keeps the others', () => {
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: '?access_token=abc&password=x&page=2&sig=zz' }));
    expect(json(row.query_params)).toEqual({
      access_token: REDACTED,
      password: REDACTED,
      page: '2',
      sig: REDACTED,
    });
    expect(row.query_params).not.toContain('abc');
  });

  it('redacts PINs, one-time codes and card codes in the query', () => {
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: 'pin=4821&otp=552211&cvv=123&ssn=078-05-1120&page=2' }));
    expect(json(row.query_params)).toEqual({
      pin: REDACTED,
      otp: REDACTED,
      cvv: REDACTED,
      ssn: REDACTED,
      page: '2',
    });
  });

  it('decodes query values and keys', () => {
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: 'q=red+shoes&name=%C3%A9t%C3%A9&a%20b=1&flag' }));
    expect(json(row.query_params)).toEqual({ q: 'red shoes', name: 'été', 'a b': '1', flag: '' });
  });

  it('gives null query params for an empty or missing query', () => {
    expect(apiRow(apiSpan({ [ATTR_URL_QUERY]: '' })).query_params).toBeNull();
    expect(apiRow(apiSpan({ [ATTR_URL_QUERY]: '?' })).query_params).toBeNull();
    expect(apiRow(apiSpan()).query_params).toBeNull();
  });

  it('keeps the parameters of a query string over 8 KB that fit, in order, and counts the rest', () => {
    // The case of issue 12: stored as {"bytes":8216,"truncated":true}, every parameter lost.
    const filters = Array.from({ length: 40 }, (_, i) => `f${i}=${String(i).padStart(200, 'v')}`);
    const query = ['q=shoes', ...filters, 'page=2'].join('&');
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: query, [ATTR_HTTP_ROUTE]: '/search' }));
    const kept = json(row.query_params) as Record<string, string>;
    expect(Buffer.byteLength(row.query_params!, 'utf8')).toBeLessThanOrEqual(TEXT_LIMITS.queryParams);
    const keys = Object.keys(kept);
    expect(keys.slice(0, 3)).toEqual(['q', 'f0', 'f1']);
    expect(kept.q).toBe('shoes');
    expect(kept.f1).toBe(String(1).padStart(200, 'v'));
    // A later parameter that still fits is kept after those that did not.
    expect(keys.at(-1)).toBe('page');
    const dropped = (json(row.metadata) as { query_params_dropped: number }).query_params_dropped;
    expect(keys.length + dropped).toBe(42);
    expect(dropped).toBeGreaterThan(0);
    expect(keys.length).toBeGreaterThan(30);
  });

  it('cuts a huge value of an over-long query to 1 KB and keeps the parameters after it', () => {
    const query = `q=shoes&blob=${'z'.repeat(20_000)}&page=2&tag=a&tag=b`;
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: query, [ATTR_HTTP_ROUTE]: '/x' }));
    const kept = json(row.query_params) as Record<string, string | string[]>;
    expect(kept).toEqual({ q: 'shoes', blob: `${'z'.repeat(1021)}…`, page: '2', tag: ['a', 'b'] });
    expect(row.metadata).toBeNull();
  });

  it('keeps an over-long query of repeated and multibyte values within 8 KB of JSON', () => {
    const query = Array.from({ length: 100 }, () => `tag=${encodeURIComponent('é'.repeat(60))}`).join('&');
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: query, [ATTR_HTTP_ROUTE]: '/x' }));
    const bytes = Buffer.byteLength(row.query_params!, 'utf8');
    expect(bytes).toBeLessThanOrEqual(TEXT_LIMITS.queryParams);
    expect(bytes).toBeGreaterThan(TEXT_LIMITS.queryParams - 200);
    const tags = (json(row.query_params) as { tag: string[] }).tag;
    expect(tags.every((t) => t === 'é'.repeat(60))).toBe(true);
    expect(tags.length + (json(row.metadata) as { query_params_dropped: number }).query_params_dropped).toBe(
      100,
    );
  });

  it('keeps every value of a query that fits whole, however long', () => {
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: `q=${'y'.repeat(6000)}`, [ATTR_HTTP_ROUTE]: '/x' }));
    expect(json(row.query_params)).toEqual({ q: 'y'.repeat(6000) });
  });

  it('keeps at most 100 query parameters and counts the rest in metadata', () => {
    const query = Array.from({ length: 130 }, (_, i) => `p${i}=${i}`).join('&');
    const row = apiRow(apiSpan({ [ATTR_URL_QUERY]: query, [ATTR_HTTP_ROUTE]: '/x' }));
    expect(Object.keys(json(row.query_params) as object)).toHaveLength(100);
    expect(json(row.metadata)).toEqual({ query_params_dropped: 30 });
  });

  it('stores an IPv4-mapped peer address as IPv4', () => {
    const row = apiRow(apiSpan({ [ATTR_NETWORK_PEER_ADDRESS]: '::ffff:192.0.2.7' }));
    expect(row.ip_address).toBe('192.0.2.7');
    expect(row.peer_address).toBe('192.0.2.7');
  });

  it('prefers the client address over the peer for ip_address', () => {
    const row = apiRow(
      apiSpan({ [ATTR_ANALYTICS_CLIENT_ADDRESS]: '203.0.113.9', [ATTR_NETWORK_PEER_ADDRESS]: '10.0.0.1' }),
    );
    expect(row.ip_address).toBe('203.0.113.9');
    expect(row.peer_address).toBe('10.0.0.1');
  });

  it('stores an invalid address as null and keeps the raw value in metadata', () => {
    const row = apiRow(apiSpan({ [ATTR_HTTP_ROUTE]: '/x', [ATTR_NETWORK_PEER_ADDRESS]: '010.001.002.003' }));
    expect(row.ip_address).toBeNull();
    expect(row.peer_address).toBeNull();
    expect(json(row.metadata)).toEqual({
      invalid_ip_address: '010.001.002.003',
      invalid_peer_address: '010.001.002.003',
    });
  });

  it('stores no address when the span has none', () => {
    const row = apiRow(apiSpan({ [ATTR_NETWORK_PEER_ADDRESS]: undefined, [ATTR_HTTP_ROUTE]: '/x' }));
    expect(row.ip_address).toBeNull();
    expect(row.peer_address).toBeNull();
    expect(row.metadata).toBeNull();
  });

  it('stores a span without a valid trace id under the invalid trace id, 32 zeros, never null', () => {
    const zeros = '0'.repeat(32);
    for (const traceId of [
      '',
      'xyz',
      TRACE_ID.slice(1),
      `${TRACE_ID}0`,
      `${TRACE_ID.slice(1)}\u0000`,
      zeros,
    ]) {
      expect(apiRow(apiSpan({}, { traceId })).trace_id).toBe(zeros);
    }
    expect(apiRow(apiSpan({}, { traceId: TRACE_ID.toUpperCase() })).trace_id).toBe(TRACE_ID.toUpperCase());
  });

  it('writes the start time as ISO 8601 with microseconds', () => {
    expect(apiRow(apiSpan({}, { startTime: [1_700_000_000, 999_999_999] })).time).toBe(
      '2023-11-14T22:13:20.999999Z',
    );
    expect(apiRow(apiSpan({}, { startTime: [1_700_000_000, 1_000] })).time).toBe(
      '2023-11-14T22:13:20.000001Z',
    );
  });

  it('computes the response time in milliseconds from the duration', () => {
    expect(apiRow(apiSpan({}, { duration: [2, 250_000] })).response_time_ms).toBe(2000.25);
  });

  it.each([
    ['missing', undefined],
    ['zero', 0],
    ['negative', -3],
    ['NaN', Number.NaN],
    ['a string', '2'],
  ])('uses a sample weight of 1 when the weight is %s', (_label, weight) => {
    expect(apiRow(apiSpan({ [ATTR_ANALYTICS_SAMPLE_WEIGHT]: weight as number })).sample_weight).toBe(1);
  });

  it('takes the error message from an exception event, redacted', () => {
    const row = apiRow(
      apiSpan(
        { [ATTR_HTTP_RESPONSE_STATUS_CODE]: 500 },
        {
          status: { code: SpanStatusCode.ERROR },
          events: [
            { name: 'other', time: START },
            exception('db failed: password=hunter2 Bearer abcdefghijk'),
          ],
        },
      ),
    );
    expect(row.error_message).toBe(`db failed: password=${REDACTED} Bearer ${REDACTED}`);
  });

  it('takes the error message from the span status, redacted', () => {
    const row = apiRow(
      apiSpan(
        { [ATTR_HTTP_RESPONSE_STATUS_CODE]: 500 },
        { status: { code: SpanStatusCode.ERROR, message: 'token=abc' } },
      ),
    );
    expect(row.error_message).toBe(`token=${REDACTED}`);
  });

  it('prefers the error.message attribute set by the processor, redacted', () => {
    const row = apiRow(
      apiSpan(
        { [ATTR_HTTP_RESPONSE_STATUS_CODE]: 500, [ATTR_ERROR_MESSAGE]: 'child failed: api_key=k1' },
        { events: [exception('own error')] },
      ),
    );
    expect(row.error_message).toBe(`child failed: api_key=${REDACTED}`);
  });

  it.each([
    [500, 'Internal Server Error'],
    [503, 'Service Unavailable'],
    [599, 'HTTP 599'],
  ])('uses the status text as the error of a %i response without an exception', (status, text) => {
    expect(apiRow(apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status })).error_message).toBe(text);
  });

  it.each([400, 401, 404, 422, 429, 499])(
    'gives no error message for a %i the app answered without an exception',
    (status) => {
      expect(apiRow(apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status })).error_message).toBeNull();
    },
  );

  it('keeps the message of an error thrown for a 4xx', () => {
    const thrown = apiRow(
      apiSpan(
        { [ATTR_HTTP_ROUTE]: '/users/:id', [ATTR_HTTP_RESPONSE_STATUS_CODE]: 404 },
        { events: [exception('user 42 not found')] },
      ),
    );
    const fromProcessor = apiRow(
      apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: 400, [ATTR_ERROR_MESSAGE]: 'name is required' }),
    );
    expect([thrown.error_message, fromProcessor.error_message]).toEqual([
      'user 42 not found',
      'name is required',
    ]);
  });

  it('gives no error message for a success', () => {
    expect(apiRow(apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: 302 })).error_message).toBeNull();
  });

  it('prefers the original method when the method is _OTHER', () => {
    const row = apiRow(
      apiSpan({ [ATTR_HTTP_REQUEST_METHOD]: '_OTHER', [ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: 'PURGE' }),
    );
    expect(row.method).toBe('PURGE');
  });

  it('records slow and aborted requests and captured headers in metadata', () => {
    const row = apiRow(
      apiSpan({
        [ATTR_HTTP_ROUTE]: '/x',
        [ATTR_ANALYTICS_SLOW]: true,
        [ATTR_ANALYTICS_ABORTED]: true,
        [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-request-id`]: ['abc'],
      }),
    );
    expect(json(row.metadata)).toEqual({ slow: true, aborted: true, headers: { 'x-request-id': ['abc'] } });
  });

  it('redacts a sensitive captured header that reached the span unredacted', () => {
    const row = apiRow(
      apiSpan({
        [ATTR_HTTP_ROUTE]: '/x',
        [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}authorization`]: ['Bearer abcdefghijkl'],
        [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-request-id`]: ['r-1'],
      }),
    );
    expect(row.metadata).not.toContain('abcdefghijkl');
    expect(json(row.metadata)).toMatchObject({ headers: { 'x-request-id': ['r-1'] } });
  });

  it('redacts allow-listed CSRF headers, however the framework names them', () => {
    const names = ['x-csrf', 'x-csrf-token', 'x-xsrf-token', 'x-csrftoken', 'x-xsrftoken'];
    const row = apiRow(
      apiSpan({
        [ATTR_HTTP_ROUTE]: '/x',
        ...Object.fromEntries(
          names.map((n, i) => [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}${n}`, [`csrf-${i}-q9`]]),
        ),
      }),
    );
    expect(row.metadata).not.toMatch(/csrf-\d-q9/);
    expect(json(row.metadata)).toEqual({ headers: Object.fromEntries(names.map((n) => [n, [REDACTED]])) });
  });

  it('becomes an API row when the processor tagged it, whatever its scope', () => {
    const span = makeSpan({
      kind: SpanKind.SERVER,
      scope: '@opentelemetry/instrumentation-fastify',
      attributes: { [ATTR_ANALYTICS_RECORD]: 'api', [ATTR_URL_PATH]: '/x' },
    });
    expect(spanToRow(span, redactor)?.table).toBe('api_access_log');
  });
});

describe('spanToRow for auth spans', () => {
  it('maps an auth event span to every authentication_log column', () => {
    const row = authRow(
      authSpan({
        [ATTR_ANALYTICS_AUTH_EVENT_TYPE]: 'login_failed',
        [ATTR_ANALYTICS_AUTH_SUCCESS]: false,
        [ATTR_ANALYTICS_AUTH_METADATA]: JSON.stringify({
          method: 'password',
          password: 'hunter2',
          attempt: 3,
        }),
        [ATTR_ANALYTICS_CLIENT_ADDRESS]: '::ffff:203.0.113.5',
        [ATTR_ENDUSER_ID]: 'user-1',
        [ATTR_USER_AGENT_ORIGINAL]: 'Mozilla/5.0',
        [ATTR_ERROR_MESSAGE]: 'bad credentials for token=abc',
      }),
    );
    expect(row).toEqual({
      time: START_ISO,
      trace_id: TRACE_ID,
      span_id: SPAN_ID,
      service_name: 'svc',
      user_id: 'user-1',
      event_type: 'login_failed',
      ip_address: '203.0.113.5',
      user_agent: 'Mozilla/5.0',
      success: false,
      error_message: `bad credentials for token=${REDACTED}`,
      metadata: expect.any(String),
    });
    expect(json(row.metadata)).toEqual({ method: 'password', password: REDACTED, attempt: 3 });
  });

  it('counts an event without a success attribute as a success', () => {
    expect(authRow(authSpan()).success).toBe(true);
  });

  it('has null metadata, error and address when none are given', () => {
    const row = authRow(authSpan());
    expect(row.metadata).toBeNull();
    expect(row.error_message).toBeNull();
    expect(row.ip_address).toBeNull();
    expect(row.event_type).toBe('login');
  });

  it('uses "unknown" for an empty event type of a tagged span', () => {
    const span = makeSpan({
      kind: SpanKind.INTERNAL,
      scope: 'custom',
      attributes: { [ATTR_ANALYTICS_RECORD]: 'auth', [ATTR_ANALYTICS_AUTH_EVENT_TYPE]: '' },
    });
    expect(authRow(span).event_type).toBe('unknown');
  });

  it('marks metadata that is not JSON instead of failing', () => {
    const row = authRow(authSpan({ [ATTR_ANALYTICS_AUTH_METADATA]: '{not json' }));
    expect(json(row.metadata)).toEqual({ unparsed_metadata: true });
  });

  it('stores an invalid client address as null and keeps it in metadata', () => {
    const row = authRow(
      authSpan({ [ATTR_ANALYTICS_CLIENT_ADDRESS]: 'garbage', [ATTR_ANALYTICS_AUTH_METADATA]: '{"a":1}' }),
    );
    expect(row.ip_address).toBeNull();
    expect(json(row.metadata)).toEqual({ a: 1, invalid_ip_address: 'garbage' });
  });

  it('keeps metadata that is a JSON primitive under "value"', () => {
    expect(json(authRow(authSpan({ [ATTR_ANALYTICS_AUTH_METADATA]: '42' })).metadata)).toEqual({ value: 42 });
  });

  it('redacts metadata that is a JSON array', () => {
    const row = authRow(
      authSpan({
        [ATTR_ANALYTICS_AUTH_METADATA]: JSON.stringify([{ password: 'hunter2' }, 'Bearer abcdefghijkl']),
      }),
    );
    expect(row.metadata).not.toContain('hunter2');
    expect(row.metadata).not.toContain('abcdefghijkl');
  });

  it('redacts nested sensitive metadata', () => {
    const row = authRow(
      authSpan({
        [ATTR_ANALYTICS_AUTH_METADATA]: JSON.stringify({
          provider: { name: 'github', access_token: 'gho_x' },
          note: 'sk-abcdefghijklmnopqrstu',
        }),
      }),
    );
    expect(json(row.metadata)).toEqual({
      provider: { name: 'github', access_token: REDACTED },
      note: REDACTED,
    });
  });
});

describe('spanToRow for external calls', () => {
  it('maps a client span of the undici instrumentation to every external_api_call_log column', () => {
    const row = externalRow(
      externalSpan({
        [ATTR_URL_FULL]: 'https://user:pw@api.openai.com/v1/chat/completions?api_key=sk-x#frag',
        [ATTR_SERVER_ADDRESS]: 'api.openai.com',
        [ATTR_SERVICE_PEER_NAME]: 'openai',
        [ATTR_ENDUSER_ID]: 'user-1',
        [ATTR_HTTP_REQUEST_BODY_SIZE]: 300,
        [ATTR_HTTP_RESPONSE_BODY_SIZE]: 1200,
        [ATTR_ANALYTICS_COST_USD]: 0.0125,
        [ATTR_ANALYTICS_COST_MODEL]: 'per_token',
        [ATTR_ANALYTICS_PRICE_SOURCE]: 'https://platform.openai.com/docs/pricing',
        [ATTR_ANALYTICS_PRICE_CHECKED_AT]: '2026-08-20',
        [ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
        [ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o',
        [ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-2024-08-06',
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1000,
        [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 200,
        [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: 50,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 500,
        [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 100,
      }),
    );
    expect(row).toEqual({
      time: START_ISO,
      trace_id: TRACE_ID,
      span_id: SPAN_ID,
      service_name: 'svc',
      user_id: 'user-1',
      service: 'openai',
      endpoint: `https://${REDACTED}@api.openai.com/v1/chat/completions`,
      method: 'POST',
      status_code: 200,
      response_time_ms: 12.5,
      cost_estimate: 0.0125,
      request_size: 300,
      response_size: 1200,
      error_message: null,
      metadata: expect.any(String),
    });
    expect(json(row.metadata)).toEqual({
      host: 'api.openai.com',
      provider: 'openai',
      request_model: 'gpt-4o',
      response_model: 'gpt-4o-2024-08-06',
      input_tokens: 1000,
      cached_input_tokens: 200,
      cache_write_input_tokens: 50,
      output_tokens: 500,
      reasoning_tokens: 100,
      cost_model: 'per_token',
      cost_source: 'local',
      price_source: 'https://platform.openai.com/docs/pricing',
      price_checked_at: '2026-08-20',
    });
  });

  it("keeps the conversation and response ids of a call in metadata, to find it in the provider's logs", () => {
    const row = externalRow(
      externalSpan({
        [ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
        'gen_ai.conversation.id': 'conv-7',
        'gen_ai.response.id': 'msg_01',
      }),
    );
    expect(json(row.metadata)).toEqual({
      host: 'api.example.com',
      provider: 'anthropic',
      conversation_id: 'conv-7',
      response_id: 'msg_01',
    });
  });

  it('strips the query and fragment from the endpoint', () => {
    const row = externalRow(
      externalSpan({ [ATTR_URL_FULL]: 'https://api.example.com/v1/search?q=secret-ish&key=k#top' }),
    );
    expect(row.endpoint).toBe('https://api.example.com/v1/search');
  });

  it('uses the host as the service when no service name was set', () => {
    expect(externalRow(externalSpan()).service).toBe('api.example.com');
  });

  it('gives a null endpoint when the span has no URL', () => {
    expect(externalRow(externalSpan({ [ATTR_URL_FULL]: undefined })).endpoint).toBeNull();
  });

  it('records an unknown cost as null with the reason in metadata', () => {
    const row = externalRow(externalSpan({ [ATTR_ANALYTICS_COST_UNKNOWN_REASON]: 'unknown_model' }));
    expect(row.cost_estimate).toBeNull();
    expect(json(row.metadata)).toMatchObject({ cost_unknown_reason: 'unknown_model' });
  });

  it.each([
    ['negative', -1],
    ['too large for numeric(14,8)', 1_000_000],
  ])('stores a %s cost as null and keeps it in metadata', (_label, cost) => {
    const row = externalRow(externalSpan({ [ATTR_ANALYTICS_COST_USD]: cost }));
    expect(row.cost_estimate).toBeNull();
    expect(json(row.metadata)).toMatchObject({ invalid_cost_estimate: cost });
  });

  it('stores a NaN cost as null', () => {
    expect(externalRow(externalSpan({ [ATTR_ANALYTICS_COST_USD]: Number.NaN })).cost_estimate).toBeNull();
  });

  it('keeps a cost of zero', () => {
    expect(externalRow(externalSpan({ [ATTR_ANALYTICS_COST_USD]: 0 })).cost_estimate).toBe(0);
  });

  it('records an incomplete call in metadata', () => {
    expect(json(externalRow(externalSpan({ [ATTR_ANALYTICS_INCOMPLETE]: true })).metadata)).toMatchObject({
      incomplete: true,
    });
  });

  it('uses error.type as the error of a call that got no response', () => {
    const row = externalRow(
      externalSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: undefined, 'error.type': 'ECONNREFUSED' }),
    );
    expect(row.status_code).toBeNull();
    expect(row.error_message).toBe('ECONNREFUSED');
  });

  it('uses the status text as the error of a failed call', () => {
    expect(externalRow(externalSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: 429 })).error_message).toBe(
      'Too Many Requests',
    );
  });

  it('redacts the exception message of a failed call', () => {
    const row = externalRow(
      externalSpan({}, { events: [exception('fetch https://x.test/?token=abc failed')] }),
    );
    expect(row.error_message).toBe(`fetch https://x.test/?token=${REDACTED} failed`);
  });

  it('becomes an external row when the processor tagged it, whatever its scope', () => {
    const span = makeSpan({
      kind: SpanKind.CLIENT,
      scope: 'custom-fetch',
      attributes: { [ATTR_ANALYTICS_RECORD]: RECORD_EXTERNAL },
    });
    expect(spanToRow(span, redactor)?.table).toBe('external_api_call_log');
  });
});

describe('spanToRow for spans that become no row', () => {
  it.each<[string, SpanInput]>([
    [
      'an express middleware span',
      { kind: SpanKind.INTERNAL, scope: '@opentelemetry/instrumentation-express' },
    ],
    [
      'an express request handler span',
      { kind: SpanKind.SERVER, scope: '@opentelemetry/instrumentation-express' },
    ],
    ['an INTERNAL span of the HTTP instrumentation', { kind: SpanKind.INTERNAL, scope: HTTP_SCOPE }],
    ['a SERVER span of the undici instrumentation', { kind: SpanKind.SERVER, scope: UNDICI_SCOPE }],
    ['a database client span', { kind: SpanKind.CLIENT, scope: '@opentelemetry/instrumentation-pg' }],
    ['a span of our tracer without an auth event type', { kind: SpanKind.INTERNAL, scope: TRACER_NAME }],
    [
      'a span with an unknown record tag',
      { kind: SpanKind.INTERNAL, scope: 'x', attributes: { [ATTR_ANALYTICS_RECORD]: 'other' } },
    ],
    ['a PRODUCER span of the HTTP instrumentation', { kind: SpanKind.PRODUCER, scope: HTTP_SCOPE }],
  ])('returns undefined for %s', (_label, input) => {
    expect(spanToRow(makeSpan(input), redactor)).toBeUndefined();
  });
});

/** Every string in a row (JSON columns are parsed first, so their contents are checked too). */
function expectSafeText(row: Record<string, unknown>): void {
  for (const [column, value] of Object.entries(row)) {
    if (typeof value !== 'string') continue;
    expect(value, column).not.toContain('\u0000');
    expect(value.isWellFormed(), column).toBe(true);
    // PostgreSQL's jsonb rejects the escape \u0000 and surrogate escapes (JSON.stringify writes
    // a surrogate as an escape only when it is alone).
    expect(value, column).not.toContain('\\u0000');
    expect(value, column).not.toMatch(/\\u[dD][89a-fA-F][0-9a-fA-F]{2}/);
  }
}

function expectWithin(row: Record<string, unknown>, limits: Record<string, number>): void {
  for (const [column, limit] of Object.entries(limits)) {
    const value = row[column];
    if (typeof value !== 'string') continue;
    expect(Buffer.byteLength(value, 'utf8'), column).toBeLessThanOrEqual(limit);
  }
}

const BAD = 'a\u0000b\uD800c\uDFFFd';
const LONG = `/${'x'.repeat(10_000)}\u0000\uD800`;

describe('spanToRow with hostile values', () => {
  it('keeps query parameters named like Object.prototype members as plain data', () => {
    const row = apiRow(
      apiSpan({ [ATTR_URL_QUERY]: 'constructor=foo&toString=1&__proto__=z&length=3&length=4' }),
    );
    expect(JSON.parse(row.query_params!)).toStrictEqual(
      JSON.parse('{"constructor":"foo","toString":"1","__proto__":"z","length":["3","4"]}'),
    );
  });

  it('redacts tokens carried in the path, in the path and the endpoint', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const row = apiRow(apiSpan({ [ATTR_URL_PATH]: `/reset/${jwt}` }));
    expect(row.path).toBe(`/reset/${REDACTED}`);
    expect(row.endpoint).toBe(`/reset/${REDACTED}`);
  });

  it('drops captured headers before the flags when metadata is too large', () => {
    const row = apiRow(
      apiSpan({
        [ATTR_ANALYTICS_SLOW]: true,
        [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-big-1`]: ['h'.repeat(8000)],
        [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-big-2`]: ['h'.repeat(8000)],
        [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-big-3`]: ['h'.repeat(8000)],
      }),
    );
    expect(JSON.parse(row.metadata!)).toEqual({
      slow: true,
      endpoint_source: 'normalized_path',
      headers_dropped: true,
    });
  });

  it('makes every column of an API row safe', () => {
    const row = apiRow(
      apiSpan(
        {
          [ATTR_URL_PATH]: LONG,
          [ATTR_HTTP_REQUEST_METHOD]: `G\u0000ET${'T'.repeat(1000)}`,
          [ATTR_HTTP_RESPONSE_STATUS_CODE]: 1e12,
          [ATTR_NETWORK_PEER_ADDRESS]: `1.2.3.4\u0000${'9'.repeat(10_000)}`,
          [ATTR_USER_AGENT_ORIGINAL]: `${BAD}${'u'.repeat(5000)}\uDBFF`,
          [ATTR_HTTP_REQUEST_BODY_SIZE]: -1,
          [ATTR_HTTP_RESPONSE_BODY_SIZE]: Number.NaN,
          [ATTR_URL_QUERY]: `q=${BAD}&${BAD}=1&big=${'z'.repeat(20_000)}`,
          [ATTR_ENDUSER_ID]: `${BAD}${'é'.repeat(2000)}`,
          [ATTR_ERROR_MESSAGE]: `${BAD}${'€'.repeat(10_000)}`,
          [ATTR_ANALYTICS_SAMPLE_WEIGHT]: Number.POSITIVE_INFINITY,
          [`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-${BAD}`]: [BAD, 'y'.repeat(20_000)],
        },
        {
          duration: [Number.NaN, Number.NaN],
          startTime: [Number.NaN, Number.NaN],
          traceId: `${TRACE_ID}\u0000`,
        },
      ),
    );
    expectSafeText(row as unknown as Record<string, unknown>);
    expectWithin(row as unknown as Record<string, unknown>, {
      trace_id: TEXT_LIMITS.short,
      span_id: TEXT_LIMITS.short,
      service_name: TEXT_LIMITS.short,
      user_id: TEXT_LIMITS.indexed,
      endpoint: TEXT_LIMITS.indexed,
      path: TEXT_LIMITS.path,
      method: TEXT_LIMITS.short,
      user_agent: TEXT_LIMITS.userAgent,
      query_params: TEXT_LIMITS.queryParams,
      error_message: TEXT_LIMITS.errorMessage,
      metadata: TEXT_LIMITS.metadata,
    });
    expect(row.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(row.trace_id).toBe('0'.repeat(32));
    expect(row.status_code).toBeNull();
    expect(row.response_time_ms).toBeNull();
    expect(row.request_size).toBeNull();
    expect(row.response_size).toBeNull();
    expect(row.ip_address).toBeNull();
    expect(row.sample_weight).toBe(1);
    expect(Number.isFinite(row.sample_weight)).toBe(true);
    expect(() => json(row.query_params)).not.toThrow();
    expect(() => json(row.metadata)).not.toThrow();
  });

  it('cuts a 10,000-character route template to the indexed limit', () => {
    const row = apiRow(apiSpan({ [ATTR_HTTP_ROUTE]: LONG }));
    expect(Buffer.byteLength(row.endpoint!, 'utf8')).toBeLessThanOrEqual(TEXT_LIMITS.indexed);
    expectSafeText(row as unknown as Record<string, unknown>);
  });

  it('makes every column of an auth row safe', () => {
    const row = authRow(
      authSpan({
        [ATTR_ANALYTICS_AUTH_EVENT_TYPE]: `${BAD}${'e'.repeat(1000)}`,
        [ATTR_ANALYTICS_AUTH_METADATA]: JSON.stringify({
          [`k${BAD}`]: BAD,
          nested: { big: 'm'.repeat(40_000) },
        }),
        [ATTR_ANALYTICS_CLIENT_ADDRESS]: BAD,
        [ATTR_USER_AGENT_ORIGINAL]: 'a'.repeat(5000),
        [ATTR_ERROR_MESSAGE]: `${BAD}${'x'.repeat(10_000)}`,
        [ATTR_ENDUSER_ID]: BAD,
      }),
    );
    expectSafeText(row as unknown as Record<string, unknown>);
    expectWithin(row as unknown as Record<string, unknown>, {
      user_id: TEXT_LIMITS.indexed,
      event_type: TEXT_LIMITS.short,
      user_agent: TEXT_LIMITS.userAgent,
      error_message: TEXT_LIMITS.errorMessage,
      metadata: TEXT_LIMITS.metadata,
    });
    expect(row.ip_address).toBeNull();
    expect(() => json(row.metadata)).not.toThrow();
  });

  it('removes NUL escapes hidden inside auth metadata JSON', () => {
    const row = authRow(
      authSpan({ [ATTR_ANALYTICS_AUTH_METADATA]: '{"a\\u0000b":"c\\u0000d","e":"\\ud800"}' }),
    );
    expectSafeText(row as unknown as Record<string, unknown>);
    expect(json(row.metadata)).toEqual({ ab: 'cd', e: '\uFFFD' });
  });

  it('makes every column of an external row safe', () => {
    const row = externalRow(
      externalSpan(
        {
          [ATTR_URL_FULL]: `https://api.example.com${LONG}`,
          [ATTR_SERVER_ADDRESS]: `${BAD}${'h'.repeat(5000)}`,
          [ATTR_HTTP_REQUEST_METHOD]: BAD,
          [ATTR_HTTP_RESPONSE_STATUS_CODE]: 2 ** 31,
          [ATTR_ANALYTICS_COST_USD]: Number.POSITIVE_INFINITY,
          [ATTR_GEN_AI_RESPONSE_MODEL]: `${BAD}${'m'.repeat(20_000)}`,
          [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: Number.NaN,
          [ATTR_HTTP_REQUEST_BODY_SIZE]: 1.5,
          [ATTR_ERROR_MESSAGE]: `${BAD}${'x'.repeat(10_000)}`,
        },
        { duration: [-1, 0] },
      ),
    );
    expectSafeText(row as unknown as Record<string, unknown>);
    expectWithin(row as unknown as Record<string, unknown>, {
      user_id: TEXT_LIMITS.indexed,
      service: TEXT_LIMITS.indexed,
      endpoint: TEXT_LIMITS.path,
      method: TEXT_LIMITS.short,
      error_message: TEXT_LIMITS.errorMessage,
      metadata: TEXT_LIMITS.metadata,
    });
    expect(row.status_code).toBeNull();
    expect(row.cost_estimate).toBeNull();
    expect(row.response_time_ms).toBeNull();
    expect(row.request_size).toBeNull();
    expect(() => json(row.metadata)).not.toThrow();
  });
});

describe('hrTimeToIso', () => {
  it.each<[HrTime, string]>([
    [[0, 0], '1970-01-01T00:00:00.000000Z'],
    [[1_700_000_000, 123_456_789], '2023-11-14T22:13:20.123456Z'],
    [[1_700_000_000, 999], '2023-11-14T22:13:20.000000Z'],
    [[Number.NaN, Number.NaN], '1970-01-01T00:00:00.000000Z'],
  ])('writes %j as %s', (time, iso) => {
    expect(hrTimeToIso(time)).toBe(iso);
  });
});

describe('attribute names', () => {
  it('reads our own attributes under the analytics. prefix', () => {
    for (const name of [
      ATTR_ANALYTICS_RECORD,
      ATTR_ANALYTICS_SAMPLE_WEIGHT,
      ATTR_ANALYTICS_CLIENT_ADDRESS,
      ATTR_ANALYTICS_SLOW,
      ATTR_ANALYTICS_ABORTED,
      ATTR_ANALYTICS_INCOMPLETE,
      ATTR_ANALYTICS_COST_USD,
      ATTR_ANALYTICS_COST_MODEL,
      ATTR_ANALYTICS_COST_UNKNOWN_REASON,
      ATTR_ANALYTICS_PRICE_SOURCE,
      ATTR_ANALYTICS_PRICE_CHECKED_AT,
      ATTR_ANALYTICS_AUTH_EVENT_TYPE,
      ATTR_ANALYTICS_AUTH_SUCCESS,
      ATTR_ANALYTICS_AUTH_METADATA,
    ]) {
      expect(name.startsWith('analytics.')).toBe(true);
    }
  });

  it('reads the OpenTelemetry registry names for development attributes', () => {
    expect({
      ATTR_ENDUSER_ID,
      ATTR_HTTP_REQUEST_BODY_SIZE,
      ATTR_HTTP_RESPONSE_BODY_SIZE,
      ATTR_SERVICE_PEER_NAME,
      ATTR_ERROR_MESSAGE,
      ATTR_GEN_AI_PROVIDER_NAME,
      ATTR_GEN_AI_REQUEST_MODEL,
      ATTR_GEN_AI_RESPONSE_MODEL,
      ATTR_GEN_AI_USAGE_INPUT_TOKENS,
      ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
      ATTR_HTTP_REQUEST_HEADER_PREFIX,
    }).toEqual({
      ATTR_ENDUSER_ID: 'enduser.id',
      ATTR_HTTP_REQUEST_BODY_SIZE: 'http.request.body.size',
      ATTR_HTTP_RESPONSE_BODY_SIZE: 'http.response.body.size',
      ATTR_SERVICE_PEER_NAME: 'service.peer.name',
      ATTR_ERROR_MESSAGE: 'error.message',
      ATTR_GEN_AI_PROVIDER_NAME: 'gen_ai.provider.name',
      ATTR_GEN_AI_REQUEST_MODEL: 'gen_ai.request.model',
      ATTR_GEN_AI_RESPONSE_MODEL: 'gen_ai.response.model',
      ATTR_GEN_AI_USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
      ATTR_GEN_AI_USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
      ATTR_HTTP_REQUEST_HEADER_PREFIX: 'http.request.header.',
    });
  });

  it('ignores look-alike attribute names that are not the ones in semconv.ts', () => {
    const row = apiRow(apiSpan({ 'enduser.ID': 'nope', 'analytics.sampleWeight': 5, 'user.id': 'nope' }));
    expect(row.user_id).toBeNull();
    expect(row.sample_weight).toBe(1);
  });
});

describe('spanToRow: status codes no HTTP response has', () => {
  it.each([-1, 0, 99, 600, 999, 1000, 2 ** 31, 200.5])(
    'stores %s as no status, with the value in metadata.invalid_status_code',
    (status) => {
      const api = apiRow(apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status }));
      expect(api.status_code).toBeNull();
      expect(json(api.metadata)).toMatchObject({ invalid_status_code: status });
      const call = externalRow(externalSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status }));
      expect(call.status_code).toBeNull();
      expect(json(call.metadata)).toMatchObject({ invalid_status_code: status });
    },
  );

  it('keeps 100 to 599, and notes a status sent as text, cut to 64 characters', () => {
    for (const status of [100, 101, 200, 404, 599]) {
      const row = apiRow(apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status }));
      expect(row.status_code).toBe(status);
      expect(row.metadata === null || !('invalid_status_code' in (json(row.metadata) as object))).toBe(true);
    }
    const text = apiRow(apiSpan({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: `200${'x'.repeat(100)}` }));
    expect(text.status_code).toBeNull();
    expect((json(text.metadata) as { invalid_status_code: string }).invalid_status_code).toBe(
      `200${'x'.repeat(61)}`,
    );
  });
});

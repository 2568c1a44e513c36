import { describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { spanToRow } from '../../exporter/span-to-row.js';
import type {
  ApiAccessLogRow,
  AuthenticationLogRow,
  ExternalApiCallLogRow,
} from '../../database/analytics-database.js';
import { classifySpan } from '../../src/spans/classify-span.js';
import { REDACTED, Redactor } from '../../src/privacy/redactor.js';
import { withStableHttpAttributes } from '../../src/spans/stable-http-attributes.js';
import { fakeSpan } from '../../dev/spans.js';

const redactor = new Redactor();
const DJANGO = 'opentelemetry.instrumentation.django';
const REQUESTS = 'opentelemetry.instrumentation.requests';

describe('withStableHttpAttributes', () => {
  it('fills the stable names of a server span from the old ones', () => {
    const a = withStableHttpAttributes(
      {
        'http.method': 'GET',
        'http.target': '/api/items/42?page=2#top',
        'http.status_code': 200,
        'http.user_agent': 'python-requests/2.32',
        'net.peer.ip': '198.51.100.7',
        'http.client_ip': '203.0.113.5',
        'net.host.name': 'shop.example',
        'net.host.port': 8000,
        'net.peer.name': 'client.example',
      },
      SpanKind.SERVER,
    );
    expect(a).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/api/items/42',
      'url.query': 'page=2',
      'http.response.status_code': 200,
      'user_agent.original': 'python-requests/2.32',
      'network.peer.address': '198.51.100.7',
      'client.address': '203.0.113.5',
      'server.address': 'shop.example',
      'server.port': 8000,
    });
  });

  it('reads net.peer.name as the server of a client span, and the host from the URL otherwise', () => {
    expect(
      withStableHttpAttributes({ 'http.method': 'GET', 'net.peer.name': 'api.example' }, SpanKind.CLIENT)[
        'server.address'
      ],
    ).toBe('api.example');
    const a = withStableHttpAttributes(
      { 'http.method': 'POST', 'http.url': 'https://api.openai.com/v1/chat/completions?x=1' },
      SpanKind.CLIENT,
    );
    expect(a).toMatchObject({
      'url.full': 'https://api.openai.com/v1/chat/completions?x=1',
      'server.address': 'api.openai.com',
      'url.path': '/v1/chat/completions',
      'url.query': 'x=1',
    });
  });

  it('keeps a stable name that is already there', () => {
    const a = withStableHttpAttributes(
      { 'http.request.method': 'POST', 'http.method': 'GET', 'url.path': '/a', 'http.target': '/b' },
      SpanKind.SERVER,
    );
    expect(a['http.request.method']).toBe('POST');
    expect(a['url.path']).toBe('/a');
  });

  it('returns the same object when nothing is missing', () => {
    const attributes = { 'http.request.method': 'GET', 'url.path': '/' };
    expect(withStableHttpAttributes(attributes, SpanKind.SERVER)).toBe(attributes);
  });

  it('keeps the raw path of a full URL (no dot-segment resolution)', () => {
    const a = withStableHttpAttributes({ 'url.full': 'http://h/a/../admin?q' }, SpanKind.SERVER);
    expect(a['url.path']).toBe('/a/../admin');
  });
});

describe('classifySpan for spans of other instrumentations and languages', () => {
  it('counts a root SERVER span with an old-style method as a request', () => {
    expect(classifySpan(fakeSpan({ scope: DJANGO, attributes: { 'http.method': 'GET' } }))).toBe('api');
  });

  it('counts a SERVER span continuing a remote parent, not one inside a local parent', () => {
    const parent = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
    const span = fakeSpan({ scope: 'next.js', attributes: { 'http.request.method': 'GET' } });
    expect(classifySpan({ ...span, parentSpanContext: { ...parent, isRemote: true } })).toBe('api');
    expect(classifySpan({ ...span, parentSpanContext: parent })).toBeUndefined();
    expect(classifySpan({ ...span, parentSpanContext: { ...parent, isRemote: false } })).toBeUndefined();
  });

  it('counts a CLIENT span with a method as an external call, and one without as nothing', () => {
    expect(
      classifySpan(
        fakeSpan({ kind: SpanKind.CLIENT, scope: REQUESTS, attributes: { 'http.method': 'GET' } }),
      ),
    ).toBe('external');
    expect(
      classifySpan(
        fakeSpan({ kind: SpanKind.CLIENT, scope: 'opentelemetry.instrumentation.psycopg', attributes: {} }),
      ),
    ).toBeUndefined();
  });

  it('counts any span with analytics.auth.event_type as an auth event', () => {
    expect(
      classifySpan(
        fakeSpan({
          kind: SpanKind.INTERNAL,
          scope: 'myapp.auth',
          attributes: { 'analytics.auth.event_type': 'login' },
        }),
      ),
    ).toBe('auth');
  });
});

describe('spanToRow for foreign spans', () => {
  it('maps a Python (old conventions) server span, redacting its query', () => {
    const result = spanToRow(
      fakeSpan({
        scope: DJANGO,
        attributes: {
          'http.method': 'GET',
          'http.target': '/api/items/42/?access_token=s3cr3t&page=2',
          'http.route': 'api/items/<int:item_id>/',
          'http.status_code': 404,
          'http.user_agent': 'curl/8',
          'net.peer.ip': '198.51.100.7',
          'http.response_content_length': 120,
        },
      }),
      redactor,
    );
    expect(result?.table).toBe('api_access_log');
    const row = result!.row as ApiAccessLogRow;
    expect(row).toMatchObject({
      path: '/api/items/42/',
      endpoint: 'api/items/<int:item_id>/',
      method: 'GET',
      status_code: 404,
      user_agent: 'curl/8',
      ip_address: '198.51.100.7',
      peer_address: '198.51.100.7',
      response_size: 120,
      error_message: null,
    });
    expect(JSON.parse(row.query_params!)).toEqual({ access_token: REDACTED, page: '2' });
  });

  it('maps an old-style client span, cutting and redacting the URL', () => {
    const result = spanToRow(
      fakeSpan({
        kind: SpanKind.CLIENT,
        scope: REQUESTS,
        attributes: {
          'http.method': 'GET',
          'http.url': 'https://user:pw@maps.example/geo?key=AIzaSyA-very-secret-key-1234567890abc',
          'http.status_code': 200,
        },
      }),
      redactor,
    );
    expect(result?.table).toBe('external_api_call_log');
    const row = result!.row as ExternalApiCallLogRow;
    expect(row.endpoint).not.toContain('AIza');
    expect(row.endpoint).not.toContain('pw');
    expect(row).toMatchObject({ method: 'GET', status_code: 200, service: 'maps.example' });
  });

  it('gives a foreign login_failed event without an outcome success = false', () => {
    const result = spanToRow(
      fakeSpan({
        kind: SpanKind.INTERNAL,
        scope: 'myapp',
        attributes: { 'analytics.auth.event_type': 'login_failed', 'http.user_agent': 'ua/1' },
      }),
      redactor,
    );
    const row = result!.row as AuthenticationLogRow;
    expect(row).toMatchObject({ event_type: 'login_failed', success: false, user_agent: 'ua/1' });
  });
});

import { describe, expect, it } from 'vitest';
import { createUndiciInstrumentationConfig } from '../../src/instrumentation/undici-instrumentation-config.js';
import { ATTR_URL_FULL, ATTR_URL_QUERY } from '@opentelemetry/semantic-conventions';
import { ATTR_HTTP_REQUEST_BODY_SIZE } from '../../src/semconv.js';

/** The parts of undici's request object the start hook reads. */
function request(body: unknown, contentLength: number | null = null) {
  return { origin: 'http://api.example', path: '/items', method: 'POST', body, contentLength };
}

describe('createUndiciInstrumentationConfig', () => {
  const { startSpanHook } = createUndiciInstrumentationConfig();
  const size = (req: ReturnType<typeof request>) =>
    startSpanHook!(req as unknown as Parameters<NonNullable<typeof startSpanHook>>[0])[
      ATTR_HTTP_REQUEST_BODY_SIZE
    ];

  it('sizes a request body by its declared length, else by the buffer undici holds it in', () => {
    // fetch declares the length; undici's own request() holds a string or buffer body as a Buffer.
    expect(size(request(Buffer.from('ignored'), 12))).toBe(12);
    expect(size(request(Buffer.from('{"name":"é"}')))).toBe(Buffer.byteLength('{"name":"é"}'));
    expect(size(request(new Uint8Array(5)))).toBe(5);
    expect(size(request(null))).toBe(0);
  });

  it('gives no size to a streamed body of unknown length', () => {
    expect(size(request({ pipe() {} }))).toBeUndefined();
  });

  const urlOf = (origin: unknown, path: string) => {
    const attributes = startSpanHook!({ origin, path, method: 'GET' } as unknown as Parameters<
      NonNullable<typeof startSpanHook>
    >[0]);
    return { full: attributes[ATTR_URL_FULL], query: attributes[ATTR_URL_QUERY] };
  };

  it('gives the URL undici sends to, its query redacted in both attributes', () => {
    expect(urlOf('http://127.0.0.1:4010', '/data')).toEqual({
      full: 'http://127.0.0.1:4010/data',
      query: '',
    });
    expect(urlOf('https://generativelanguage.googleapis.com', '/v1/models?key=AIzaSecret&alt=sse')).toEqual({
      full: 'https://generativelanguage.googleapis.com/v1/models?key=REDACTED&alt=sse',
      query: '?key=REDACTED&alt=sse',
    });
    expect(urlOf('http://api.example/', '/items?')).toEqual({ full: 'http://api.example/items?', query: '' });
  });

  it('parses what is not a plain origin and path, and gives up quietly on what is no URL', () => {
    expect(urlOf(new URL('http://user:pw@api.example:8080'), '/x?token=abc').full).toBe(
      'http://REDACTED@api.example:8080/x?token=REDACTED',
    );
    expect(urlOf('http://api.example', '*').full).toBe('http://api.example/*');
    expect(urlOf('not a url', 'either')).toEqual({ full: undefined, query: undefined });
  });
});

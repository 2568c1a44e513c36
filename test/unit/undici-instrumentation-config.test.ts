import { describe, expect, it } from 'vitest';
import { createUndiciInstrumentationConfig } from '../../src/instrumentation/undici-instrumentation-config.js';
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
});

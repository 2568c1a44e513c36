import type { IncomingMessage } from 'node:http';
import { ATTR_URL_QUERY } from '@opentelemetry/semantic-conventions';
import { describe, expect, it } from 'vitest';
import { createHttpInstrumentationConfig } from '../../src/instrumentation/http-instrumentation-config.js';
import { pseudonymizeUserId } from '../../src/privacy/pseudonymize.js';
import { ATTR_HTTP_REQUEST_HEADER_PREFIX } from '../../src/semconv.js';

const KEY = 'test-hmac-key-of-at-least-16-bytes';

/** What the hook reads of an incoming request. */
function request(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
}

describe('createHttpInstrumentationConfig', () => {
  it('redacts the query and captured headers before they become attributes', () => {
    const hooks = createHttpInstrumentationConfig({ captureHeaders: ['x-csrftoken'] });
    const attributes = hooks.startIncomingSpanHook!(
      request('/x?pin=4821&page=2', { 'x-csrftoken': 'csrf-secret-1' }),
    );
    expect(attributes[ATTR_URL_QUERY]).toBe('pin=REDACTED&page=2');
    expect(attributes[`${ATTR_HTTP_REQUEST_HEADER_PREFIX}x-csrftoken`]).toEqual(['REDACTED']);
  });

  it('under hmac, gives emails in the query the pseudonym user_id gets', () => {
    const hooks = createHttpInstrumentationConfig({ userIdMode: 'hmac', hmacKey: KEY });
    const attributes = hooks.startIncomingSpanHook!(request('/x?email=alice%40example.com&page=2'));
    expect(attributes[ATTR_URL_QUERY]).toBe(`email=${pseudonymizeUserId('alice@example.com', KEY)}&page=2`);
  });
});

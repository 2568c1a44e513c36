import { describe, expect, it } from 'vitest';
import { bearerTokenMatches } from '../../ingest/bearer-token.js';
import { checkIngestAccess, IngestServer } from '../../ingest/ingest-server.js';
import { isLoopbackHost } from '../../ingest/is-loopback-host.js';

const pipeline = { submit: () => ({ accepted: true as const, rows: 0 }) };

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST'])(
    'takes %s for loopback',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', ''])(
    'takes %s for reachable from the network',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('bearerTokenMatches', () => {
  it('accepts exactly the token, after "Bearer" in any case', () => {
    expect(bearerTokenMatches('Bearer abc.DEF-123', 'abc.DEF-123')).toBe(true);
    expect(bearerTokenMatches('bearer abc.DEF-123', 'abc.DEF-123')).toBe(true);
  });

  it('refuses a missing header, another scheme, another token, a prefix or an extension of it', () => {
    expect(bearerTokenMatches(undefined, 'tok')).toBe(false);
    expect(bearerTokenMatches('Basic dG9rOg==', 'tok')).toBe(false);
    expect(bearerTokenMatches('tok', 'tok')).toBe(false);
    expect(bearerTokenMatches('Bearer to', 'tok')).toBe(false);
    expect(bearerTokenMatches('Bearer tokk', 'tok')).toBe(false);
    expect(bearerTokenMatches('Bearer tok extra', 'tok')).toBe(false);
    expect(bearerTokenMatches('Bearer ', '')).toBe(false);
  });
});

describe('checkIngestAccess', () => {
  it('allows loopback without a token and any host with one', () => {
    expect(checkIngestAccess('127.0.0.1', undefined)).toBeUndefined();
    expect(checkIngestAccess('0.0.0.0', 'tok')).toBeUndefined();
  });

  it('refuses a host reachable from the network without a token, saying how to fix it', () => {
    const problem = checkIngestAccess('0.0.0.0', undefined);
    expect(problem).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/);
    expect(problem).toContain('OTEL_ANALYTICS_INGEST_TOKEN');
    expect(checkIngestAccess('10.0.0.5', '')).toBeDefined();
  });

  it('is enforced by the server itself, not only by the command', () => {
    expect(() => new IngestServer({ pipeline, host: '0.0.0.0', port: 0 })).toThrow(/without a token/);
    expect(() => new IngestServer({ pipeline, host: '0.0.0.0', port: 0, token: 't' })).not.toThrow();
  });
});

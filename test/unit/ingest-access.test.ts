import { describe, expect, it } from 'vitest';
import { bearerTokenMatches } from '../../ingest/bearer-token.js';
import { checkIngestAccess } from '../../ingest/check-ingest-access.js';
import { IngestServer } from '../../ingest/ingest-server.js';
import { isLoopbackHost } from '../../ingest/is-loopback-host.js';
import { weakTokenReason } from '../../ingest/weak-token-reason.js';

const pipeline = { submit: () => ({ accepted: true as const, rows: 0 }) };
/** As `openssl rand -base64 32` makes them. */
const STRONG = 'q3V+7mZk1Lr9yXw0bTn2Hs8Pf4Jc6Ga5Ue1Do7Ri3Y=';

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
  it('allows loopback with any token or none, and any host with a strong one', () => {
    expect(checkIngestAccess('127.0.0.1', undefined)).toBeUndefined();
    expect(checkIngestAccess('::1', 'x')).toBeUndefined();
    expect(checkIngestAccess('0.0.0.0', STRONG)).toBeUndefined();
    expect(checkIngestAccess('10.0.0.5', 'f'.repeat(8) + '0123456789abcdef'.repeat(2))).toBeUndefined();
  });

  it('refuses a weak token off loopback, saying what is needed and how to make one, without quoting it', () => {
    for (const token of ['x', 'k7Qw9xZp2Lm4Rt8Vb1Nc', 'a'.repeat(64), 'ab'.repeat(32), '1234567'.repeat(5)]) {
      const problem = checkIngestAccess('0.0.0.0', token);
      expect(problem, token).toMatch(
        /refusing to listen on 0\.0\.0\.0 with a weak OTEL_ANALYTICS_INGEST_TOKEN/,
      );
      expect(problem).toContain('at least 32 characters');
      expect(problem).toContain('openssl rand -base64 32');
      expect(problem).toContain("randomBytes(32).toString('base64url')");
      expect(problem).not.toContain(token);
    }
  });

  it('refuses a token with whitespace or a control character on any host, which no Bearer header can carry, without quoting it', () => {
    const tokens = [
      `${STRONG.slice(0, 22)} ${STRONG.slice(22)}`,
      `${STRONG.slice(0, 22)}\t${STRONG.slice(22)}`,
      `${STRONG.slice(0, 22)}\n${STRONG.slice(22)}`,
      `${STRONG.slice(0, 22)}\u00a0${STRONG.slice(22)}`,
      `${STRONG.slice(0, 22)}\u0007${STRONG.slice(22)}`,
    ];
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      for (const token of tokens) {
        // Why: one with whitespace never matches the header, and Node's parser refuses a
        // header with a control character (400), so every export would be refused.
        if (/\s/.test(token)) expect(bearerTokenMatches(`Bearer ${token}`, token)).toBe(false);
        const problem = checkIngestAccess(host, token);
        expect(problem, JSON.stringify(token)).toMatch(
          new RegExp(
            `refusing to listen on ${host.replaceAll('.', '\\.')}: OTEL_ANALYTICS_INGEST_TOKEN has whitespace or a control character in it`,
          ),
        );
        expect(problem).toContain('openssl rand -base64 32');
        expect(problem).not.toContain(STRONG.slice(0, 22));
        expect(problem).not.toContain(STRONG.slice(22));
      }
    }
    expect(() => new IngestServer({ pipeline, host: '127.0.0.1', port: 0, token: tokens[0]! })).toThrow(
      /whitespace or a control character/,
    );
  });

  it('refuses a host reachable from the network without a token, saying how to fix it', () => {
    const problem = checkIngestAccess('0.0.0.0', undefined);
    expect(problem).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/);
    expect(problem).toContain('OTEL_ANALYTICS_INGEST_TOKEN');
    expect(checkIngestAccess('10.0.0.5', '')).toBeDefined();
  });

  it('is enforced by the server itself, not only by the command', () => {
    expect(() => new IngestServer({ pipeline, host: '0.0.0.0', port: 0 })).toThrow(/without a token/);
    expect(() => new IngestServer({ pipeline, host: '0.0.0.0', port: 0, token: 't' })).toThrow(/weak/);
    expect(() => new IngestServer({ pipeline, host: '0.0.0.0', port: 0, token: STRONG })).not.toThrow();
    expect(() => new IngestServer({ pipeline, host: '127.0.0.1', port: 0, token: 't' })).not.toThrow();
  });
});

describe('weakTokenReason', () => {
  it('takes tokens made by openssl or crypto.randomBytes for strong', () => {
    expect(weakTokenReason(STRONG)).toBeUndefined();
    expect(weakTokenReason('9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c')).toBeUndefined();
    expect(weakTokenReason('Xk3_vQ9-LmZ2pR7tYw4sNb8cJh1dFg6eUa0oTi5yKq')).toBeUndefined();
  });

  it('says a token is too short under 32 characters, counting characters rather than bytes', () => {
    expect(weakTokenReason('x')).toBe('it is shorter than 32 characters');
    expect(weakTokenReason('Xk3_vQ9-LmZ2pR7tYw4sNb8cJh1dFg6')).toBe('it is shorter than 32 characters');
    expect(weakTokenReason('é'.repeat(20) + 'abcdefghij')).toBe('it is shorter than 32 characters');
  });

  it('says a long token of few different characters is weak', () => {
    expect(weakTokenReason('a'.repeat(100))).toBe('it has fewer than 8 different characters');
    expect(weakTokenReason('abcdefg'.repeat(10))).toBe('it has fewer than 8 different characters');
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_FORWARDED_HOPS, resolveClientAddress } from '../../src/privacy/client-address.js';
import { PrivacyPolicy } from '../../src/privacy/privacy-policy.js';
import { checkTrustedProxies, compileTrustedProxies } from '../../src/privacy/trusted-proxies.js';

const none = compileTrustedProxies([]);
const loopback = compileTrustedProxies(['loopback']);
const oneHop = compileTrustedProxies(1);
const lan = compileTrustedProxies(['loopback', 'private']);

describe('resolveClientAddress', () => {
  it('is the socket peer when no proxy is trusted, whatever the headers say', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=7.7.7.7' };
    expect(resolveClientAddress('203.0.113.9', headers, none)).toBe('203.0.113.9');
    expect(resolveClientAddress('127.0.0.1', headers, none)).toBe('127.0.0.1');
  });

  it('is the socket peer when the peer is not a trusted proxy', () => {
    expect(resolveClientAddress('203.0.113.9', { 'x-forwarded-for': '6.6.6.6' }, loopback)).toBe(
      '203.0.113.9',
    );
  });

  it('walks X-Forwarded-For from the right to the first untrusted address', () => {
    // The client wrote 6.6.6.6 itself; the trusted proxies appended what they saw.
    const headers = { 'x-forwarded-for': '6.6.6.6, 198.51.100.20, 10.0.0.5' };
    expect(resolveClientAddress('127.0.0.1', headers, lan)).toBe('198.51.100.20');
    expect(resolveClientAddress('127.0.0.1', headers, loopback)).toBe('10.0.0.5');
  });

  it('counts hops as Express does: 1 trusts the peer only', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6, 198.51.100.20' };
    expect(resolveClientAddress('10.0.0.1', headers, oneHop)).toBe('198.51.100.20');
    expect(resolveClientAddress('10.0.0.1', headers, compileTrustedProxies(2))).toBe('6.6.6.6');
    expect(resolveClientAddress('10.0.0.1', headers, compileTrustedProxies(0))).toBe('10.0.0.1');
  });

  it('is the leftmost address when every hop is trusted', () => {
    expect(resolveClientAddress('127.0.0.1', { 'x-forwarded-for': '10.1.1.1, 10.2.2.2' }, lan)).toBe(
      '10.1.1.1',
    );
  });

  it('joins repeated X-Forwarded-For headers into one list', () => {
    const headers = { 'x-forwarded-for': ['6.6.6.6', '198.51.100.20'] };
    expect(resolveClientAddress('127.0.0.1', headers, loopback)).toBe('198.51.100.20');
  });

  it('reads Forwarded only when X-Forwarded-For is absent', () => {
    const forwarded = 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.3';
    expect(resolveClientAddress('127.0.0.1', { forwarded }, lan)).toBe('[2001:db8:cafe::17]:4711');
    expect(resolveClientAddress('127.0.0.1', { forwarded, 'x-forwarded-for': '198.51.100.1' }, lan)).toBe(
      '198.51.100.1',
    );
  });

  it.each([
    ['an empty entry', { 'x-forwarded-for': '6.6.6.6, ' }, ''],
    ['garbage', { 'x-forwarded-for': '6.6.6.6, not-an-ip' }, 'not-an-ip'],
    ['Forwarded unknown', { forwarded: 'for=6.6.6.6, for=unknown' }, 'unknown'],
    ['an obfuscated Forwarded name', { forwarded: 'for=6.6.6.6, for=_hidden' }, '_hidden'],
    ['a Forwarded element without for=', { forwarded: 'for=6.6.6.6, proto=https' }, 'proto=https'],
    ['an unclosed quote', { forwarded: 'for=6.6.6.6, for="[::1' }, '"[::1'],
  ])('stops at a hop that names no address (%s): it is not trusted', (_label, headers, expected) => {
    expect(resolveClientAddress('127.0.0.1', headers, lan)).toBe(expected);
  });

  it(`looks at no more than ${MAX_FORWARDED_HOPS} hops of a huge header`, () => {
    const huge = `${'6.6.6.6, '.repeat(100_000)}10.0.0.1`;
    expect(resolveClientAddress('127.0.0.1', { 'x-forwarded-for': huge }, lan)).toBe('6.6.6.6');
    const allTrusted = Array.from({ length: 100 }, (_, i) => `10.0.${i}.1`).join(', ');
    expect(resolveClientAddress('127.0.0.1', { 'x-forwarded-for': allTrusted }, lan)).toBe(
      `10.0.${100 - MAX_FORWARDED_HOPS}.1`,
    );
  });

  it('trusts IPv4-mapped and bracketed forms of a trusted address', () => {
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    expect(resolveClientAddress('::ffff:127.0.0.1', headers, loopback)).toBe('198.51.100.7');
    expect(resolveClientAddress('::1', headers, loopback)).toBe('198.51.100.7');
  });
});

describe('checkTrustedProxies', () => {
  it.each([[-1], [1.5], ['10.0.0.0/33'], ['::/129'], [['loopback', 7]], [{}], ['bogus']])(
    'rejects %j',
    (value) => {
      expect(checkTrustedProxies(value)).toBeUndefined();
    },
  );
});

describe('PrivacyPolicy', () => {
  const key = 'k'.repeat(32);
  const headers = { 'x-forwarded-for': '198.51.100.77' };

  it('keeps addresses as given by default', () => {
    const policy = new PrivacyPolicy({
      trustedProxies: [],
      ipMode: 'full',
      userIdMode: 'plain',
      hmacKey: undefined,
    });
    expect(policy.requestAddresses('203.0.113.9', headers)).toEqual({
      client: '203.0.113.9',
      peer: '203.0.113.9',
    });
    expect(policy.userId('alice')).toBe('alice');
  });

  it('truncates client and peer addresses', () => {
    const policy = new PrivacyPolicy({
      trustedProxies: 1,
      ipMode: 'truncate',
      userIdMode: 'plain',
      hmacKey: undefined,
    });
    expect(policy.requestAddresses('10.9.8.7', headers)).toEqual({
      client: '198.51.100.0',
      peer: '10.9.8.0',
    });
  });

  it('hashes addresses and user ids with the key, stably', () => {
    const policy = new PrivacyPolicy({
      trustedProxies: [],
      ipMode: 'hash',
      userIdMode: 'hmac',
      hmacKey: key,
    });
    const first = policy.requestAddresses('203.0.113.9', {});
    expect(first.client).toMatch(/^2001:db8:/);
    expect(policy.requestAddresses('203.0.113.9', {})).toEqual(first);
    expect(policy.userId('alice')).toMatch(/^u_/);
    expect(policy.pseudonymousUsers).toBe(true);
  });

  it('keeps nothing under none, and fails closed without a key', () => {
    const policy = new PrivacyPolicy({
      trustedProxies: [],
      ipMode: 'hash',
      userIdMode: 'hmac',
      hmacKey: undefined,
    });
    expect(policy.requestAddresses('203.0.113.9', {})).toEqual({ client: undefined, peer: undefined });
    expect(policy.userId('alice')).toBeUndefined();
  });
});

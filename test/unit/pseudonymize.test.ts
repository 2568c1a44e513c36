import { describe, expect, it } from 'vitest';
import { isIP } from 'node:net';
import { pseudonymizeIp, pseudonymizeUserId, truncateIp } from '../../src/privacy/pseudonymize.js';

const KEY = 'k'.repeat(32);

describe('pseudonymizeUserId', () => {
  it('maps a user to the same pseudonym every time, and different users apart', () => {
    const a = pseudonymizeUserId('alice@example.com', KEY);
    expect(a).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
    expect(pseudonymizeUserId('alice@example.com', KEY)).toBe(a);
    expect(pseudonymizeUserId('bob@example.com', KEY)).not.toBe(a);
  });

  it('depends on the key', () => {
    expect(pseudonymizeUserId('alice', KEY)).not.toBe(pseudonymizeUserId('alice', 'x'.repeat(32)));
  });

  it('never equals the pseudonym of an address of the same text', () => {
    expect(pseudonymizeUserId('1.2.3.4', KEY)).not.toContain(pseudonymizeIp('1.2.3.4', KEY));
  });
});

describe('pseudonymizeIp', () => {
  it('gives a stable IPv6 address in the documentation prefix', () => {
    const p = pseudonymizeIp('203.0.113.7', KEY);
    expect(isIP(p)).toBe(6);
    expect(p.startsWith('2001:db8:')).toBe(true);
    expect(pseudonymizeIp('203.0.113.7', KEY)).toBe(p);
    expect(pseudonymizeIp('203.0.113.8', KEY)).not.toBe(p);
  });
});

describe('truncateIp', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0'],
    ['10.1.2.3', '10.1.2.0'],
    ['2001:db8:abcd:12:1::5', '2001:db8:abcd::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['::1', '0:0:0::'],
    ['fe80::1', 'fe80:0:0::'],
  ])('cuts %s to %s', (ip, expected) => {
    expect(truncateIp(ip)).toBe(expected);
    expect(isIP(truncateIp(ip))).not.toBe(0);
  });
});

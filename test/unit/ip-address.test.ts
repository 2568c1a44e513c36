import { describe, expect, it } from 'vitest';
import { MAX_INVALID_IP_LENGTH, normalizeIp } from '../../src/privacy/ip-address.js';

describe('normalizeIp', () => {
  it('answers the same for an address seen just before (the last answer is kept) as for a new one', () => {
    const sequence = [
      '::ffff:10.0.0.1',
      '::ffff:10.0.0.1',
      '010.1.1.1',
      '010.1.1.1',
      '[::1]:80',
      '::ffff:10.0.0.1',
    ];
    expect(sequence.map((v) => normalizeIp(v))).toEqual([
      { ip: '10.0.0.1' },
      { ip: '10.0.0.1' },
      { ip: null, raw: '010.1.1.1' },
      { ip: null, raw: '010.1.1.1' },
      { ip: '::1' },
      { ip: '10.0.0.1' },
    ]);
  });

  it.each([
    ['an IPv4 address', '192.168.1.10', '192.168.1.10'],
    ['0.0.0.0', '0.0.0.0', '0.0.0.0'],
    ['an IPv4 address with surrounding spaces', '  10.0.0.1 ', '10.0.0.1'],
    ['an IPv6 address, lower-cased', '2001:DB8::1', '2001:db8::1'],
    ['the IPv6 loopback', '::1', '::1'],
    ['an IPv4-mapped IPv6 address', '::ffff:10.1.2.3', '10.1.2.3'],
    ['an upper-case IPv4-mapped IPv6 address', '::FFFF:10.1.2.3', '10.1.2.3'],
    ['a bracketed IPv6 address with a port', '[2001:db8::1]:8080', '2001:db8::1'],
    ['a bracketed IPv6 address', '[::1]', '::1'],
    ['a bracketed IPv4-mapped address with a port', '[::ffff:1.2.3.4]:443', '1.2.3.4'],
    ['an IPv4 address with a port', '10.0.0.1:3000', '10.0.0.1'],
    ['an IPv6 address with a zone id', 'fe80::1%eth0', 'fe80::1'],
    ['a bracketed IPv6 address with an encoded zone id and a port', '[fe80::1%25eth0]:443', 'fe80::1'],
  ])('accepts %s', (_label, input, ip) => {
    expect(normalizeIp(input)).toStrictEqual({ ip });
  });

  it.each([
    ['leading-zero octets', '010.001.002.003'],
    ['one leading-zero octet', '10.0.0.01'],
    ['a mapped address with leading zeros', '::ffff:010.0.0.1'],
    ['an out-of-range octet', '256.1.1.1'],
    ['three octets', '10.0.1'],
    ['a host name', 'localhost'],
    ['garbage', 'not-an-ip'],
    ['a list from a header', '1.2.3.4, 5.6.7.8'],
    ['an SQL injection attempt', "1.2.3.4'; DROP TABLE x;--"],
    ['a NUL byte', '1.2.3.4\u0000'],
    ['only spaces', '   '],
    ['an unclosed bracket', '[::1'],
    ['text after a bracketed address', '[::1]junk'],
    ['a bracketed address with a bad port', '[::1]:80x'],
  ])('rejects %s, keeping the raw value', (_label, input) => {
    expect(normalizeIp(input)).toStrictEqual({ ip: null, raw: input });
  });

  it('keeps at most MAX_INVALID_IP_LENGTH characters of a value that is not an address', () => {
    const huge = 'x'.repeat(64 * 1024);
    expect(normalizeIp(huge)).toStrictEqual({ ip: null, raw: huge.slice(0, MAX_INVALID_IP_LENGTH) });
  });

  it.each([
    ['the empty string', ''],
    ['undefined', undefined],
    ['null', null],
    ['a number', 3232235777],
    ['an array', ['1.2.3.4']],
    ['an object', { ip: '1.2.3.4' }],
  ])('returns null without raw for %s', (_label, input) => {
    expect(normalizeIp(input)).toStrictEqual({ ip: null });
  });
});

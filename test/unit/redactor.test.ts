import { describe, expect, it } from 'vitest';
import { MAX_REDACTED_TEXT_LENGTH, maskUrlPassword, REDACTED, Redactor } from '../../src/privacy/redactor.js';
import { pseudonymizeUserId } from '../../src/privacy/pseudonymize.js';
import { createRedactor } from '../../src/privacy/create-redactor.js';
import { resolveConfig } from '../../src/config.js';
import { BENIGN_LINES, HOSTILE_LINES } from '../security/secret-text-corpus.js';

const redactor = new Redactor();

describe('Redactor.isSensitiveKey', () => {
  it.each([
    'apiKey',
    'X-Api-Key',
    'api_key',
    'api-key',
    'APIKEY',
    'access_token',
    'accessToken',
    'refresh_token',
    'AWSAccessKeyId',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'password',
    'user.password',
    'pw',
    'jsessionid',
    'Authorization',
    'Cookie',
    'Set-Cookie',
    'client_secret',
    'sessionId',
    'code',
    'otp',
    'password[]',
    'pin',
    'user_pin',
    'pinCode',
    'passcode',
    'cvv',
    'ssn',
    'totp',
    // CSRF headers as Node hands them over (lower case, so `X-CSRFToken` has no hump left).
    'x-csrf',
    'x-csrf-token',
    'x-xsrf-token',
    'x-csrftoken',
    'X-CSRFToken',
    'csrfmiddlewaretoken',
    'newpassword',
    'webhooksecret',
  ])('treats %j as sensitive', (name) => {
    expect(redactor.isSensitiveKey(name)).toBe(true);
  });

  it.each([
    'keyword',
    'monkey',
    'q',
    'page',
    'category',
    'author',
    'sort',
    'limit',
    'search',
    'passenger',
    'ping',
    'spinner',
    'pinned',
    'opinion',
    'tokenizer',
    'secretary',
    '',
  ])('treats %j as not sensitive', (name) => {
    expect(redactor.isSensitiveKey(name)).toBe(false);
  });

  it('gives the same answer the second time a name is asked (cached)', () => {
    const r = new Redactor();
    expect(r.isSensitiveKey('apiKey')).toBe(true);
    expect(r.isSensitiveKey('apiKey')).toBe(true);
    expect(r.isSensitiveKey('keyword')).toBe(false);
    expect(r.isSensitiveKey('keyword')).toBe(false);
  });

  it('treats extra keys as sensitive whole names, in any spelling', () => {
    const r = new Redactor({ extraKeys: ['tenant-id'] });
    expect(r.isSensitiveKey('tenant_id')).toBe(true);
    expect(r.isSensitiveKey('TenantId')).toBe(true);
    expect(r.isSensitiveKey('tenant')).toBe(false);
  });

  it('treats an extra key as a word of longer names', () => {
    const r = new Redactor({ extraKeys: ['Customer'] });
    expect(r.isSensitiveKey('customerName')).toBe(true);
    expect(r.isSensitiveKey('x-customer')).toBe(true);
    expect(r.isSensitiveKey('customers')).toBe(false);
  });

  it('does not let extra keys of one instance affect another', () => {
    const r = new Redactor({ extraKeys: ['tenant'] });
    expect(r.isSensitiveKey('tenant')).toBe(true);
    expect(redactor.isSensitiveKey('tenant')).toBe(false);
  });

  it('ignores extra keys that are empty after removing separators', () => {
    const r = new Redactor({ extraKeys: ['', '--', '  '] });
    expect(r.isSensitiveKey('')).toBe(false);
    expect(r.isSensitiveKey('page')).toBe(false);
  });
});

describe('Redactor.redactQuery', () => {
  it('redacts the value of a sensitive query parameter and keeps the key', () => {
    expect(redactor.redactQuery('api_key=abc123')).toBe(`api_key=${REDACTED}`);
  });

  it('keeps every other byte of the query as it was', () => {
    expect(redactor.redactQuery('q=red%20shoes&api_key=abc123&page=2&sort=+price')).toBe(
      `q=red%20shoes&api_key=${REDACTED}&page=2&sort=+price`,
    );
  });

  it('returns a query without sensitive parameters unchanged', () => {
    const query = 'q=shoes&page=2&category=a%2Fb&keyword=x';
    expect(redactor.redactQuery(query)).toBe(query);
  });

  it('returns the empty string unchanged', () => {
    expect(redactor.redactQuery('')).toBe('');
  });

  it('leaves a sensitive key without a value, or with an empty value, as it was', () => {
    expect(redactor.redactQuery('token&page=1')).toBe('token&page=1');
    expect(redactor.redactQuery('token=&page=1')).toBe('token=&page=1');
  });

  it('redacts every occurrence of a repeated sensitive key', () => {
    expect(redactor.redactQuery('token=a&token=b&q=1')).toBe(`token=${REDACTED}&token=${REDACTED}&q=1`);
  });

  it('recognises a percent-encoded key and keeps its encoding', () => {
    expect(redactor.redactQuery('api%5Fkey=abc&x=1')).toBe(`api%5Fkey=${REDACTED}&x=1`);
  });

  it("recognises a key whose words are joined by '+'", () => {
    expect(redactor.redactQuery('access+token=abc')).toBe(`access+token=${REDACTED}`);
  });

  it('treats a key with malformed percent-encoding literally instead of throwing', () => {
    expect(redactor.redactQuery('%E0%A4%A=1&password=x')).toBe(`%E0%A4%A=1&password=${REDACTED}`);
  });

  it("redacts the whole value even when it contains '='", () => {
    expect(redactor.redactQuery('token=a=b=c')).toBe(`token=${REDACTED}`);
  });

  it('keeps empty parts between separators', () => {
    expect(redactor.redactQuery('a=1&&secret=x&')).toBe(`a=1&&secret=${REDACTED}&`);
  });

  it('parses to the same keys as before redaction', () => {
    const query = 'q=1&X-Amz-Signature=abc%3D&tag=a&tag=b';
    const before = [...new URLSearchParams(query).keys()];
    const after = [...new URLSearchParams(redactor.redactQuery(query)).keys()];
    expect(after).toEqual(before);
  });
});

describe('Redactor.redactUrl', () => {
  it('redacts userinfo, sensitive query values and drops the fragment', () => {
    expect(redactor.redactUrl('https://user:pa55@example.com/path?token=abc&q=1#access_token=xyz')).toBe(
      `https://${REDACTED}@example.com/path?token=${REDACTED}&q=1`,
    );
  });

  it('returns a URL without secrets unchanged', () => {
    const url = 'https://api.example.com/v1/items?page=2&q=shoes';
    expect(redactor.redactUrl(url)).toBe(url);
  });

  it('drops a fragment that comes before anything that looks like a query', () => {
    expect(redactor.redactUrl('https://example.com/p#a?token=1')).toBe('https://example.com/p');
  });

  it('redacts the query of a relative URL', () => {
    expect(redactor.redactUrl('/callback?code=abc&state=xyz')).toBe(`/callback?code=${REDACTED}&state=xyz`);
  });

  it('does not mistake an @ in the path for userinfo', () => {
    const url = 'https://example.com/users/@bob';
    expect(redactor.redactUrl(url)).toBe(url);
  });

  it('redacts the whole userinfo when the password holds an unencoded @', () => {
    const result = redactor.redactUrl('https://user:p@ss@example.com/x');
    expect(result).not.toContain('ss@');
    expect(new URL(result).hostname).toBe('example.com');
  });
});

describe('Redactor.redactText', () => {
  it.each([
    ['a Bearer token', 'request failed: Bearer abcdef123456.xyz', `request failed: Bearer ${REDACTED}`],
    ['a Basic credential', 'Authorization: Basic dXNlcjpwYXNz', `Authorization: Basic ${REDACTED}`],
    [
      'a JWT',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U expired',
      `token ${REDACTED} expired`,
    ],
    ['an OpenAI key', 'bad key sk-proj-abcdefghijklmnop1234 used', `bad key ${REDACTED} used`],
    ['an Anthropic key', 'key: sk-ant-api03-abcdefghijklmnopqrst', `key: ${REDACTED}`],
    ['a Google API key', 'key AIzaSyA1234567890abcdefghijklmnopqrstu!', `key ${REDACTED}!`],
    ['an AWS access key id', 'id AKIAIOSFODNN7EXAMPLE denied', `id ${REDACTED} denied`],
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789 rejected', `${REDACTED} rejected`],
    ['a Slack token', 'xoxb-1234567890-abcdefghij', REDACTED],
    [
      'a name=value pair',
      'login failed password=hunter2 user=bob',
      `login failed password=${REDACTED} user=bob`,
    ],
    ['pairs in a URL', 'GET /cb?code=abc123&state=xyz', `GET /cb?code=${REDACTED}&state=xyz`],
    ['JSON pairs', '{"password": "hunter2", "user": "bob"}', `{"password": "${REDACTED}", "user": "bob"}`],
    [
      'a JSON value with escaped quotes',
      '{"api_key":"a\\"b\\"c","n":"1"}',
      `{"api_key":"${REDACTED}","n":"1"}`,
    ],
  ])('redacts %s', (_label, input, expected) => {
    expect(redactor.redactText(input)).toBe(expected);
  });

  it('redacts a PEM private key and keeps the surrounding text', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabcdef\n-----END RSA PRIVATE KEY-----';
    expect(redactor.redactText(`before ${pem} after`)).toBe(`before ${REDACTED} after`);
  });

  it('redacts a PEM private key that was cut off before its END line', () => {
    const result = redactor.redactText('key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B');
    expect(result).toBe(`key: ${REDACTED}`);
  });

  it.each([
    'GET /api/items/42 returned 404 Not Found',
    'connect ECONNREFUSED 127.0.0.1:5432',
    'page=2&sort=asc&q=shoes',
    '{"user": "bob", "count": "3"}',
    'The keyword search found 3 results for monkey',
    '',
  ])('leaves ordinary text untouched: %j', (text) => {
    expect(redactor.redactText(text)).toBe(text);
  });

  it('leaves sensitive names with empty values untouched', () => {
    expect(redactor.redactText('password= and {"token": ""}')).toBe('password= and {"token": ""}');
  });

  it('applies extra keys to name=value pairs', () => {
    const r = new Redactor({ extraKeys: ['tenant'] });
    expect(r.redactText('tenant=acme page=1')).toBe(`tenant=${REDACTED} page=1`);
  });
});

describe('Redactor on hostile input', () => {
  const redactor = new Redactor();

  it('leaves a long run of JWT-like prefixes alone and still finds a real JWT after it', () => {
    // The JWT pattern once restarted at every "eyJ" of such a run (quadratic).
    const run = 'eyJ-'.repeat(1000);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-1';
    expect(redactor.redactText(`${run} ${jwt}`)).toBe(`${run} ${REDACTED}`);
  });

  it(`cuts text longer than ${MAX_REDACTED_TEXT_LENGTH} characters before scanning it`, () => {
    const result = redactor.redactText(`${'a'.repeat(MAX_REDACTED_TEXT_LENGTH)}token=secret`);
    expect(result).toBe(`${'a'.repeat(MAX_REDACTED_TEXT_LENGTH)}…`);
  });

  it('finds a sensitive name hidden by NUL bytes or other separators inside a word', () => {
    expect(redactor.isSensitiveKey('pass\u0000word')).toBe(true);
    expect(redactor.isSensitiveKey('pa\u0000ss\u0000word')).toBe(true);
    expect(redactor.redactQuery('pa%00ssword=hunter2&x=1')).toBe(`pa%00ssword=${REDACTED}&x=1`);
  });

  it('answers for a 64 KB name of capitals (the camelCase split once backtracked on such runs)', () => {
    const name = `${'A'.repeat(64 * 1024)}Token`;
    expect(redactor.isSensitiveKey(name)).toBe(true);
    expect(redactor.isSensitiveKey('A'.repeat(64 * 1024))).toBe(false);
  });

  it('still splits acronyms before a capitalised word', () => {
    expect(redactor.isSensitiveKey('HTMLToken')).toBe(true);
    expect(redactor.isSensitiveKey('XMLKeyword')).toBe(false);
  });

  it('keeps keys named like Object.prototype members as plain data', () => {
    const input = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": "c", "toString": "t"}',
    ) as object;
    const result = redactor.redactObject(input) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('Redactor on secrets under harmless names', () => {
  const redactor = new Redactor();
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';

  it.each([
    [`t=${jwt}&page=2`, `t=${REDACTED}&page=2`],
    ['k=sk-proj-abcdefghijklmnop1234&x=1', `k=${REDACTED}&x=1`],
    [
      `next=${encodeURIComponent('https://x.test/cb?token=abc123&a=1')}`,
      `next=${encodeURIComponent(`https://x.test/cb?token=${REDACTED}&a=1`)}`,
    ],
    [
      `to=${encodeURIComponent('http://bob:pw12345@h.test/p')}`,
      `to=${encodeURIComponent(`http://${REDACTED}@h.test/p`)}`,
    ],
    ['page=2&sort=name-ascending', 'page=2&sort=name-ascending'],
  ])('redacts secret-shaped values in %s', (query, expected) => {
    expect(redactor.redactQuery(query)).toBe(expected);
  });

  const token = 'q7Xk2_Lm9PzR4vT0bYw1Nc8HdJ3sFa6GeU5iKo-B';
  it.each([
    [`next=%2Freset%2F${token}`, `/reset/${REDACTED}`],
    [`redirect=https://x.test/reset/${token}`, `https://x.test/reset/${REDACTED}`],
    [
      `to=${encodeURIComponent(`https://x.test/reset/${token}?lang=en#top`)}`,
      `https://x.test/reset/${REDACTED}?lang=en`,
    ],
    [`next=/invite/abc123def456?ref=mail`, `/invite/${REDACTED}?ref=mail`],
    [`back=//x.test/verify/482913`, `//x.test/verify/${REDACTED}`],
    [`next=%2Fs%2F${token}%2Fdownload&page=2`, `/s/${REDACTED}/download`],
  ])('redacts the token in the path a query value points at: %s', (query, expected) => {
    const [value] = [...new URLSearchParams(redactor.redactQuery(query)).values()];
    expect(value?.replace(/#.*$/, '')).toBe(expected);
    expect(redactor.redactQuery(query)).not.toContain(token);
  });

  it.each([
    'next=%2Fapi%2Fusers%2F42',
    'next=/api/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/orders',
    'return_to=https%3A%2F%2Fx.test%2Funsubscribe%2F42',
    'redirect=https://x.test/reset/en-US',
  ])('keeps a query value that points at a path without a token: %s', (query) => {
    expect(redactor.redactQuery(query)).toBe(query);
  });

  it.each([
    ['bad password: hunter2', `bad password: ${REDACTED}`],
    ['x-api-key: Ab3dEf9hIj', `x-api-key: ${REDACTED}`],
    ['Authorization: Bearer abc.def', `Authorization: Bearer ${REDACTED}`],
    ['fetching https://bob:s3cret@host.test/x failed', `fetching https://${REDACTED}@host.test/x failed`],
    ['session: expired', 'session: expired'],
    ['at 12:30: auth failed', 'at 12:30: auth failed'],
  ])('redacts %s', (text, expected) => {
    expect(redactor.redactText(text)).toBe(expected);
  });
});

describe('Redactor.redactPath', () => {
  const redactor = new Redactor();

  it.each([
    ['/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc/confirm', `/reset/${REDACTED}/confirm`],
    ['/keys/sk-proj-abcdefghijklmnop1234', `/keys/${REDACTED}`],
    ['/api/items/42', '/api/items/42'],
    ['/cart;jsessionid=0A1B2C3D4E/checkout', `/cart;jsessionid=${REDACTED}/checkout`],
    ['/shop;JSESSIONID=abc;lang=en', `/shop;JSESSIONID=${REDACTED};lang=en`],
    ['/matrix;color=red;size=2', '/matrix;color=red;size=2'],
  ])('redacts %s to %s', (path, expected) => {
    expect(redactor.redactPath(path)).toBe(expected);
  });

  const token40 = 'q7Xk2_Lm9PzR4vT0bYw1Nc8HdJ3sFa6GeU5iKo-B';
  it.each([
    [`/reset/${token40}`, `/reset/${REDACTED}`],
    [`/reset/${'3f9a'.repeat(10)}`, `/reset/${REDACTED}`],
    [`/s/${token40}/download`, `/s/${REDACTED}/download`],
    ['/s/Zp4mK9xQ2vL7nB3cR8tW5yH1', `/s/${REDACTED}`],
    ['/share/Zp4mK9xQ2vL7/view', `/share/${REDACTED}/view`],
    ['/verify/482913', `/verify/${REDACTED}`],
    ['/invite/ABCD-1234/accept', `/invite/${REDACTED}/accept`],
    ['/invite/abc123def456', `/invite/${REDACTED}`],
    ['/magic-link/xyz123abc', `/magic-link/${REDACTED}`],
    ['/auth/reset-password/MQ/5ta-4b8e9f2b1c0d3e4f5a6b/', `/auth/reset-password/MQ/${REDACTED}/`],
    ['/email/confirm/alice@example.com', `/email/confirm/${REDACTED}`],
    ['/reset/en-US/Zp4mK9xQ2vL7', `/reset/en-US/${REDACTED}`],
    ['/invite/3f2b8c1e-9d4a-4e7b-8c21-0a1b2c3d4e5f', `/invite/${REDACTED}`],
    [`/reset/${encodeURIComponent('ab+cd/ef==')}`, `/reset/${REDACTED}`],
    [`/files/${token40}q7Xk2`, `/files/${REDACTED}`],
    ['/api/OTPVerify/482913', `/api/OTPVerify/${REDACTED}`],
    ['/api/MagicLINK/Zp4mK9xQ2vL7', `/api/MagicLINK/${REDACTED}`],
    ['/verify/email/Zp4mK9xQ2vL7wB3n', `/verify/email/${REDACTED}`],
    ['/invite/team/join/Zp4mK9xQ2vL7', `/invite/team/join/${REDACTED}`],
  ])('redacts the token segment of %s', (path, expected) => {
    expect(redactor.redactPath(path)).toBe(expected);
  });

  it.each([
    '/password/reset/confirm',
    '/users/password/edit',
    '/api/v1/token/refresh',
    '/auth/v1/verify',
    '/invite/v2/accept',
    '/api/items/507f1f77bcf86cd799439011',
    '/users/3f2b8c1e-9d4a-4e7b-8c21-0a1b2c3d4e5f/orders/1234567890123456789',
    '/assets/index-4f9a8b2c3d1e5f60.js',
    '/blog/how-to-reset-your-password-in-2024/2',
    '/docs/getUserPreferencesById',
    '/v1beta2ProjectsLocations/ListObjectsV2Response',
    '/photos/IMG_20240517_123456789',
    '/p/product-name-12345-blue-large',
    '/internationalization/AbstractSingletonProxyFactoryBean',
    `/padding/${'x'.repeat(500)}`,
    `/zeros/${'0'.repeat(40)}`,
  ])('keeps %s, which holds no token', (path) => {
    expect(redactor.redactPath(path)).toBe(path);
  });

  it.each([
    '/api/users/01ARZ3NDEKTSV4RRFFQ69G5FAV',
    '/api/users/cjld2cjxh0000qzrmn831i7rn',
    '/api/users/V1StGXR8_Z5jdHi6B-myT',
    '/api/users/0ujtsYcgvSTl8PAuAdqWYSMnLOv',
    '/api/customers/cus_NffrFeUfNV2Hib/invoices',
    '/checkout/cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY',
    '/places/ChIJN1t_tDeuEmsRUsoyG83frY4',
    '/api/activation-status/3',
    '/unsubscribe/42',
    '/v2/recover/account/12',
    '/reset/en-US',
    '/password-reset-requests/2024',
    '/invite/team/members',
    '/confirm/orders/recent/list/ORD12345678',
    '/share-buttons/Zp4mK9xQ2vL7',
    '/search/Zp4mK9xQ2vL7',
    '/whats-new/Zp4mK9xQ2vL7',
    '/api/v1/tokens/2024-05-01/usage',
  ])(
    'keeps the id or word in %s (ULID, cuid, nanoid, KSUID, prefixed ids; short ids after link words)',
    (path) => {
      expect(redactor.redactPath(path)).toBe(path);
    },
  );

  it.each(['sk_live_4eC39HqLyjWDarjtT1zdp7dc9XyZ1abc', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'])(
    'redacts %s, a secret key with an id-like prefix',
    (key) => {
      expect(redactor.redactPath(`/keys/${key}`)).toBe(`/keys/${REDACTED}`);
    },
  );

  /** Random strings of `length` characters of `alphabet`, from a seeded stream. */
  function randomStrings(alphabet: string, length: number, count: number, seed: number): string[] {
    const random = seededRandom(seed);
    return Array.from({ length: count }, () =>
      Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''),
    );
  }
  const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
  const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const BASE62 = BASE64URL.slice(0, 62);

  // Of 32 characters, one in 700 starts like a prefixed id (`kyx_WlFH4wf…`) and is kept.
  it.each([
    [32, 0.998],
    [40, 0.999],
  ])('redacts random %i-character base64url tokens anywhere (at least a share of %f)', (length, share) => {
    const tokens = randomStrings(BASE64URL, length, 4000, length);
    const redacted = tokens.filter((t) => redactor.redactPath(`/t/${t}`) === `/t/${REDACTED}`);
    expect(redacted.length / tokens.length).toBeGreaterThanOrEqual(share);
  });

  it.each([
    ['base64url', BASE64URL, 12],
    ['base64url', BASE64URL, 20],
    ['base36', BASE36, 24],
    ['base62', BASE62, 16],
  ])(
    'redacts at least 99 percent of random %s tokens of %i characters after a link word',
    (_name, alphabet, length) => {
      const tokens = randomStrings(alphabet, length, 2000, length);
      const redacted = tokens.filter((t) => redactor.redactPath(`/reset/${t}`) === `/reset/${REDACTED}`);
      expect(redacted.length / tokens.length).toBeGreaterThanOrEqual(0.99);
    },
  );

  it.each([
    ['ULIDs', () => randomStrings(CROCKFORD, 26, 500, 1)],
    ['cuids', () => randomStrings(BASE36, 24, 500, 2).map((s) => `c${s}`)],
    ['nanoids', () => randomStrings(BASE64URL, 21, 500, 3)],
    ['KSUIDs', () => randomStrings(BASE62, 27, 500, 4)],
    ['prefixed ids', () => randomStrings(BASE62, 40, 500, 5).map((s) => `cs_live_${s}`)],
  ])('keeps every one of 500 random %s in /api/items/<id>', (_name, make) => {
    for (const id of make()) expect(redactor.redactPath(`/api/items/${id}`)).toBe(`/api/items/${id}`);
  });
});

describe('Redactor under OTEL_ANALYTICS_USER_ID_MODE=hmac', () => {
  const KEY = 'test-hmac-key-of-at-least-16-bytes';
  const redactor = new Redactor({ userIdMode: 'hmac', hmacKey: KEY });
  const alice = pseudonymizeUserId('alice@example.com', KEY);

  it('gives an email in free text the pseudonym user_id gets', () => {
    expect(redactor.redactText('no account for alice@example.com, try again')).toBe(
      `no account for ${alice}, try again`,
    );
    expect(redactor.redactHeader('x-forwarded-user', 'alice@example.com')).toBe(alice);
  });

  it('gives an email in a path its pseudonym, encoded or not', () => {
    expect(redactor.redactPath('/users/alice@example.com/profile')).toBe(`/users/${alice}/profile`);
    expect(redactor.redactPath('/users/alice%40example.com')).toBe(`/users/${alice}`);
  });

  it('gives user-naming query parameters and emails in query values their pseudonyms', () => {
    const query =
      'email=alice%40example.com&username=bob&user_id=42&page=2&next=mailto%3Aalice%40example.com';
    expect([...new URLSearchParams(redactor.redactQuery(query))]).toEqual([
      ['email', alice],
      ['username', pseudonymizeUserId('bob', KEY)],
      ['user_id', pseudonymizeUserId('42', KEY)],
      ['page', '2'],
      ['next', `mailto:${alice}`],
    ]);
    expect(redactor.redactQuery('to=a%40b.io')).toBe(`to=${pseudonymizeUserId('a@b.io', KEY)}`);
  });

  it('gives user-naming fields and emails in metadata their pseudonyms, at any depth', () => {
    const metadata = {
      email: ' alice@example.com ',
      username: 'bob',
      userId: 42,
      user: { email: 'alice@example.com', plan: 'pro' },
      note: 'reset link sent to alice@example.com',
      plan: 'pro',
      password: 'hunter3',
    };
    expect(redactor.redactObject(metadata)).toEqual({
      email: alice,
      username: pseudonymizeUserId('bob', KEY),
      userId: pseudonymizeUserId('42', KEY),
      user: { email: alice, plan: 'pro' },
      note: `reset link sent to ${alice}`,
      plan: 'pro',
      password: REDACTED,
    });
  });

  it('keeps user-naming values as user_id is kept: trimmed and cut to 256 characters, blank ones naming no one', () => {
    const long = `${'b'.repeat(300)}`;
    expect(redactor.redactObject({ username: ` ${long} `, login: '   ', email: '' })).toEqual({
      username: pseudonymizeUserId(long.slice(0, 256), KEY),
      login: '   ',
      email: '',
    });
  });

  it('keeps a pseudonym once, however many times it is redacted', () => {
    const once = redactor.redactObject({ email: 'alice@example.com', user: 'bob' });
    expect(redactor.redactObject(once)).toEqual(once);
    const query = redactor.redactQuery('user=bob&email=alice%40example.com');
    expect(redactor.redactQuery(query)).toBe(query);
    expect(redactor.redactText(redactor.redactText('for alice@example.com'))).toBe(`for ${alice}`);
  });

  it('leaves URL userinfo, package versions and addresses without a domain alone', () => {
    expect(redactor.redactText('GET https://bob:pw1@host.test/x')).toBe('GET https://REDACTED@host.test/x');
    expect(redactor.redactText('react@18.2.0 and @scope/pkg and root@localhost')).toBe(
      'react@18.2.0 and @scope/pkg and root@localhost',
    );
  });

  it.each([
    '/assets/logo@2x.png',
    '/img/hero@1.5x.webp',
    '/static/icon@3x.svg',
    '/fonts/inter@latest.css',
    '/vendor/lodash@4.min.js',
  ])('takes no file name for an email: %s', (path) => {
    expect(redactor.redactPath(path)).toBe(path);
    expect(redactor.redactText(`loading ${path} failed`)).toBe(`loading ${path} failed`);
    expect(redactor.redactQuery(`src=${encodeURIComponent(path)}`)).toBe(`src=${encodeURIComponent(path)}`);
  });

  it('still takes an address at a domain named like a file for one', () => {
    expect(redactor.redactText('sent to bob@png.example.com')).toBe(
      `sent to ${pseudonymizeUserId('bob@png.example.com', KEY)}`,
    );
  });

  it('redacts them instead under none, and under hmac without a key', () => {
    for (const r of [new Redactor({ userIdMode: 'none' }), new Redactor({ userIdMode: 'hmac' })]) {
      expect(r.redactText('for alice@example.com')).toBe(`for ${REDACTED}`);
      expect(r.redactObject({ username: 'bob' })).toEqual({ username: REDACTED });
    }
  });

  it('keeps them under plain, the default', () => {
    for (const r of [new Redactor(), new Redactor({ userIdMode: 'plain', hmacKey: KEY })]) {
      expect(r.redactText('for alice@example.com')).toBe('for alice@example.com');
      expect(r.redactPath('/users/alice@example.com')).toBe('/users/alice@example.com');
      expect(r.redactQuery('user=bob&email=a%40b.io')).toBe('user=bob&email=a%40b.io');
      expect(r.redactObject({ username: 'bob' })).toEqual({ username: 'bob' });
    }
  });
});

/** A deterministic stream of numbers in [0, 1) (mulberry32), so sampled tests never flake. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Redactor.redactText on prose', () => {
  const redactor = new Redactor();

  it.each(['Token expired', 'Basic authentication failed', 'Digest mismatch in upload'])(
    'leaves %j alone: the word after the scheme is not a credential',
    (text) => {
      expect(redactor.redactText(text)).toBe(text);
    },
  );

  it.each([
    ['Token 9f8e7d6c5b4a', 'Token REDACTED'],
    ['Basic dXNlcjpwYXNz', 'Basic REDACTED'],
    ['Bearer sessiontoken', 'Bearer REDACTED'],
  ])('redacts the credential in %j', (text, expected) => {
    expect(redactor.redactText(text)).toBe(expected);
  });
});

describe('Redactor.redactText on a corpus of messages', () => {
  const redactor = new Redactor();

  it.each(HOSTILE_LINES)('removes the secret of $text', ({ text, secret }) => {
    const result = redactor.redactText(text);
    expect(result).not.toContain(secret);
    expect(result).toContain(REDACTED);
  });

  it.each(BENIGN_LINES)('keeps %j as it is', (text) => {
    expect(redactor.redactText(text)).toBe(text);
  });

  it.each([
    ['login failed: password hunter3 rejected', `login failed: password ${REDACTED} rejected`],
    ['Password is hunter3.', `Password is ${REDACTED}.`],
    ["password='hunter3' user=bob", `password='${REDACTED}' user=bob`],
    ['password: "hunter 3", retry', `password: "${REDACTED}", retry`],
    ['PIN 4821 rejected', `PIN ${REDACTED} rejected`],
    ['my secret is swordfish, keep it', `my secret is ${REDACTED}, keep it`],
  ])('keeps the words around the secret of %j', (text, expected) => {
    expect(redactor.redactText(text)).toBe(expected);
  });

  it('handles 8 KB of secret nouns, spaces and prose in one pass', () => {
    const text = 'password \t  api key is missing; token: '.repeat(220).slice(0, MAX_REDACTED_TEXT_LENGTH);
    expect(redactor.redactText(`${text}password hunter3`)).toBe(`${text}…`);
    expect(redactor.redactText(`${text.slice(0, 8000)} password hunter3`)).toBe(
      `${text.slice(0, 8000)} password ${REDACTED}`,
    );
  });
});

describe('createRedactor', () => {
  it('redacts with the redactKeys and privacy options of a resolved configuration', () => {
    const key = 'test-hmac-key-of-at-least-16-bytes';
    const redactor = createRedactor(
      resolveConfig({ redactKeys: ['x-tenant'], userIdMode: 'hmac', hmacKey: key }),
    );
    expect(redactor.redactQuery('x-tenant=acme&email=a%40b.io')).toBe(
      `x-tenant=${REDACTED}&email=${pseudonymizeUserId('a@b.io', key)}`,
    );
  });
});

describe('maskUrlPassword', () => {
  it.each([
    ['postgres://app:pw@db:5432/app', 'postgres://app:***@db:5432/app'],
    ['postgres://app:p@ss@db/app', 'postgres://app:***@db/app'],
    ['postgres://app@db/app', 'postgres://app@db/app'],
    [
      'postgres://db/app?sslmode=require&password=x&user=a',
      'postgres://db/app?sslmode=require&password=***&user=a',
    ],
  ])('masks %s as %s', (url, expected) => {
    expect(maskUrlPassword(url)).toBe(expected);
  });
});

describe('Redactor.redactHeader', () => {
  it.each(['Authorization', 'cookie', 'X-Api-Key', 'Proxy-Authorization', 'set-cookie'])(
    'replaces the whole value of the sensitive header %s',
    (name) => {
      expect(redactor.redactHeader(name, 'anything at all')).toBe(REDACTED);
    },
  );

  it('keeps the value of an ordinary header', () => {
    expect(redactor.redactHeader('User-Agent', 'Mozilla/5.0 (X11)')).toBe('Mozilla/5.0 (X11)');
  });

  it('redacts secrets inside the value of an ordinary header', () => {
    expect(redactor.redactHeader('Referer', 'https://x.test/?token=abc&q=1')).toBe(
      `https://x.test/?token=${REDACTED}&q=1`,
    );
  });
});

describe('Redactor.redactObject', () => {
  it('redacts sensitive keys at any depth and keeps the rest', () => {
    const input = { user: { name: 'bob', password: 'hunter2', profile: { apiKey: 'k', age: 3 } }, ok: true };
    expect(redactor.redactObject(input)).toEqual({
      user: { name: 'bob', password: REDACTED, profile: { apiKey: REDACTED, age: 3 } },
      ok: true,
    });
  });

  it('redacts a sensitive key whose value is an object, as a whole', () => {
    expect(redactor.redactObject({ credentials: { user: 'a', pass: 'b' } })).toEqual({
      credentials: REDACTED,
    });
  });

  it('redacts inside arrays and scans strings for secrets', () => {
    expect(redactor.redactObject([{ token: 'a' }, 'Bearer abcdefghij', 42, null])).toEqual([
      { token: REDACTED },
      `Bearer ${REDACTED}`,
      42,
      null,
    ]);
  });

  it('does not modify its input', () => {
    const input = { password: 'x', nested: { token: 'y' } };
    redactor.redactObject(input);
    expect(input).toEqual({ password: 'x', nested: { token: 'y' } });
  });

  it('stops at a cycle instead of recursing forever', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const result = redactor.redactObject(a) as Record<string, unknown>;
    expect(result.name).toBe('a');
    expect(result.self).toBe('[truncated]');
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it('keeps an object referenced twice without a cycle', () => {
    const shared = { role: 'admin' };
    expect(redactor.redactObject({ before: shared, after: shared })).toEqual({
      before: { role: 'admin' },
      after: { role: 'admin' },
    });
  });

  it('truncates objects nested deeper than eight levels', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 12; i++) deep = { c: deep };
    let node = redactor.redactObject(deep) as Record<string, unknown>;
    for (let i = 0; i < 7; i++) {
      expect(typeof node.c).toBe('object');
      node = node.c as Record<string, unknown>;
    }
    expect(node.c).toBe('[truncated]');
  });

  it('turns Dates into ISO strings and invalid Dates into null', () => {
    expect(
      redactor.redactObject({ at: new Date('2025-01-02T03:04:05.678Z'), bad: new Date(Number.NaN) }),
    ).toEqual({
      at: '2025-01-02T03:04:05.678Z',
      bad: null,
    });
  });

  it('turns Errors into their redacted message', () => {
    expect(redactor.redactObject({ error: new Error('failed with password=hunter2') })).toEqual({
      error: `failed with password=${REDACTED}`,
    });
  });

  it('turns bigints into strings', () => {
    expect(redactor.redactObject({ n: 12345678901234567890n })).toEqual({ n: '12345678901234567890' });
  });

  it('drops functions, symbols and undefined values', () => {
    const result = redactor.redactObject({ f: () => 1, s: Symbol('x'), u: undefined, k: 'v' });
    expect(result).toStrictEqual({ k: 'v' });
  });

  it.each([
    [null, null],
    [7, 7],
    [false, false],
    ['password=x', `password=${REDACTED}`],
  ])('returns the primitive %j as %j', (input, expected) => {
    expect(redactor.redactObject(input)).toBe(expected);
  });

  it('returns undefined for a top-level function', () => {
    expect(redactor.redactObject(() => 1)).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack of issue 12: secrets where no sensitive name points at them — a reset or
 * invite token as a path segment (also in a query value that is a path or URL, `?next=`,
 * `?redirect=`), a PIN under `pin`, a CSRF token in a header the operator
 * allow-listed — sent through a real app. None may land in `path`, `endpoint`,
 * `query_params` or `metadata`; what is not secret lands as it was.
 */

const SECRETS = {
  resetToken: 'q7Xk2_Lm9PzR4vT0bYw1Nc8HdJ3sFa6GeU5iKo-B',
  hexToken: '9c1f4e7a2b8d3f6e0a5c9b2d7e4f1a8c3b6d0e9f',
  verifyCode: '482913',
  inviteCode: 'QWRT-7731',
  shareToken: 'Zp4mK9xQ2vL7nB3cR8tW5yH1',
  pin: '40417',
  otp: '552298',
  csrfRails: 'csrf-rails-Hq81xz',
  csrfAngular: 'csrf-angular-Pm44vd',
  csrfDjango: 'csrf-django-Tw92kb',
  csrfPlain: 'csrf-plain-Jr37ns',
  nextToken: 'Hk3vQ9zL1xWp7RmT2bNc5YdF8sJ4gE6a',
  redirectToken: 'aB7x_Qm2Lp9zK4tR1vW8nC3yH6dF5sJ0',
} as const;

describe('secrets in paths, query parameters and allow-listed headers', () => {
  let db: TestDatabase;
  let rows: { path: string; endpoint: string; query: string | null; metadata: string | null }[];

  beforeAll(async () => {
    db = await createTestDatabase('security_urls_headers');
    const app = await startApp('test/fixtures/privacy-app.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_CAPTURE_HEADERS: 'x-csrf-token,x-xsrf-token,x-csrftoken,x-csrf,x-request-id',
      },
    });
    const s = SECRETS;
    const requests: [string, Record<string, string>?][] = [
      [`/reset/${s.resetToken}`],
      [`/password/reset/${s.hexToken}/confirm`],
      [`/verify/${s.verifyCode}`],
      [`/invite/${s.inviteCode}/accept`],
      [`/s/${s.shareToken}`],
      [`/account/unlock?pin=${s.pin}&otp=${s.otp}&page=2`],
      [`/signin?next=${encodeURIComponent(`/reset/${s.nextToken}`)}`],
      [`/signin?redirect=https://app.test/invite/${s.redirectToken}/accept&lang=en`],
      [
        '/settings',
        {
          'X-CSRF-Token': s.csrfRails,
          'X-XSRF-TOKEN': s.csrfAngular,
          'X-CSRFToken': s.csrfDjango,
          'X-CSRF': s.csrfPlain,
          'X-Request-Id': 'req-77',
        },
      ],
    ];
    for (const [target, headers] of requests) {
      const response = await fetch(`${app.url}${target}`, { headers });
      await response.arrayBuffer();
    }
    await app.stop();
    rows = await db.query(
      `select path, endpoint, query_params::text as query, metadata::text as metadata
       from api_access_log order by time`,
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('recorded every request', () => {
    expect(rows).toHaveLength(9);
  });

  it('stores none of the secrets', () => {
    const text = JSON.stringify(rows);
    const found = Object.entries(SECRETS).filter(([, secret]) => text.includes(secret));
    expect(found).toEqual([]);
  });

  it('keeps the rest of each path, the other parameters and headers', () => {
    expect(rows.map((r) => r.path)).toEqual([
      '/reset/REDACTED',
      '/password/reset/REDACTED/confirm',
      '/verify/REDACTED',
      '/invite/REDACTED/accept',
      '/s/REDACTED',
      '/account/unlock',
      '/signin',
      '/signin',
      '/settings',
    ]);
    expect(JSON.parse(rows[5]!.query!)).toEqual({ pin: 'REDACTED', otp: 'REDACTED', page: '2' });
    expect(JSON.parse(rows[6]!.query!)).toEqual({ next: '/reset/REDACTED' });
    expect(JSON.parse(rows[7]!.query!)).toEqual({
      redirect: 'https://app.test/invite/REDACTED/accept',
      lang: 'en',
    });
    expect(JSON.parse(rows[8]!.metadata!)).toMatchObject({
      headers: {
        'x-csrf-token': ['REDACTED'],
        'x-xsrf-token': ['REDACTED'],
        'x-csrftoken': ['REDACTED'],
        'x-csrf': ['REDACTED'],
        'x-request-id': ['req-77'],
      },
    });
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudonymizeUserId } from '../../src/privacy/pseudonymize.js';
import { ROOT, startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack of issue 12: with `OTEL_ANALYTICS_USER_ID_MODE=hmac`, `user_id` is a pseudonym, but
 * the same email was readable in an auth error message, in the path, and in query and metadata
 * `email` fields, so whoever reads the tables learns who the pseudonym is. Sent through a real
 * app: the email must land nowhere, its pseudonym (the same as `user_id`, so rows still join)
 * everywhere it was, and `forget` must still find and erase the user's rows.
 */

const KEY = 'security-test-hmac-key-0123456789';
const EMAIL = 'alice.liddell@example.com';
const PSEUDONYM = pseudonymizeUserId(EMAIL, KEY);

/** Every row of every log table, as text. */
async function everyRow(db: TestDatabase): Promise<string> {
  const rows = await db.query<{ t: string }>(
    `select t::text as t from api_access_log t
     union all select t::text from authentication_log t
     union all select t::text from external_api_call_log t`,
  );
  return rows.map((r) => r.t).join('\n');
}

describe('emails next to pseudonymous user ids', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('security_hmac_emails');
    const app = await startApp('test/fixtures/privacy-app.mjs', {
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_USER_ID_MODE: 'hmac',
        OTEL_ANALYTICS_HMAC_KEY: KEY,
        OTEL_ANALYTICS_CAPTURE_HEADERS: 'x-user',
      },
    });
    const encoded = encodeURIComponent(EMAIL);
    const requests: [string, RequestInit][] = [
      ['/auth-note', { method: 'POST', body: `no account for ${EMAIL}`, headers: { 'x-user': EMAIL } }],
      [`/users/${EMAIL}/profile?email=${encoded}&page=2`, { headers: { 'x-user': EMAIL } }],
      [`/users/${encoded}?username=${encoded}`, { headers: { 'x-user': EMAIL } }],
      ['/error', { method: 'POST', body: `mail to ${EMAIL} bounced`, headers: { 'x-user': EMAIL } }],
      ['/assets/logo@2x.png?fallback=%2Fimg%2Ficon%403x.webp', {}],
    ];
    for (const [target, init] of requests) {
      const response = await fetch(`${app.url}${target}`, init);
      await response.arrayBuffer();
    }
    await app.stop();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('stores the email nowhere, in any spelling', async () => {
    const text = await everyRow(db);
    expect(text).toContain(PSEUDONYM);
    expect(text.toLowerCase()).not.toContain('alice');
    expect(text).not.toContain('example.com');
  });

  it('stores the pseudonym of user_id wherever the email was, so rows still join', async () => {
    const [auth] = await db.query<{
      user_id: string;
      error_message: string;
      metadata: Record<string, string>;
    }>('select user_id, error_message, metadata from authentication_log');
    expect(auth).toEqual({
      user_id: PSEUDONYM,
      error_message: `no account for ${PSEUDONYM}`,
      metadata: { note: `no account for ${PSEUDONYM}`, email: PSEUDONYM },
    });
    const api = await db.query<{ user_id: string; path: string; query: Record<string, string> | null }>(
      `select user_id, path, query_params as query from api_access_log where path like '/users/%' order by time`,
    );
    expect(api).toEqual([
      { user_id: PSEUDONYM, path: `/users/${PSEUDONYM}/profile`, query: { email: PSEUDONYM, page: '2' } },
      { user_id: PSEUDONYM, path: `/users/${PSEUDONYM}`, query: { username: PSEUDONYM } },
    ]);
    const [error] = await db.query<{ error_message: string; headers: unknown }>(
      `select error_message, metadata->'headers' as headers from api_access_log where path = '/error'`,
    );
    expect(error).toEqual({
      error_message: `mail to ${PSEUDONYM} bounced`,
      headers: { 'x-user': [PSEUDONYM] },
    });
  });

  it('takes no image name for an email (logo@2x.png), in the path or a query value', async () => {
    const rows = await db.query<{ path: string; query: Record<string, string> }>(
      `select path, query_params as query from api_access_log where path like '/assets/%'`,
    );
    expect(rows).toEqual([{ path: '/assets/logo@2x.png', query: { fallback: '/img/icon@3x.webp' } }]);
  });

  it('lets forget find and erase every row of the user by the email', async () => {
    const forget = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist/cli/otel-pg-analytics.js'), 'forget', '--user', EMAIL, '--database-url', db.url],
      { encoding: 'utf8', env: { PATH: process.env.PATH, OTEL_ANALYTICS_HMAC_KEY: KEY } },
    );
    expect(forget.stderr).toBe('');
    expect(forget.stdout).toContain('matched the id as given and its HMAC pseudonym');
    expect(forget.stdout).toContain('api_access_log: 2 rows deleted');
    expect(forget.stdout).toContain('authentication_log: 1 row deleted');
    const [left] = await db.query<{ attributed: number; unattributed: string[] }>(
      `select (select count(*)::int from api_access_log where user_id = $1)
            + (select count(*)::int from authentication_log where user_id = $1) as attributed,
              (select array_agg(path order by path) from api_access_log where user_id is null) as unattributed`,
      [PSEUDONYM],
    );
    // Requests not attributed to the user (the failed login's, a bounce) are no rows of theirs:
    // forget leaves them, as it always did, now with the pseudonym in their text, not the email.
    expect(left).toEqual({ attributed: 0, unattributed: ['/assets/logo@2x.png', '/auth-note', '/error'] });
  });
});

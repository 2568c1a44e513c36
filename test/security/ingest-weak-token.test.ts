import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { djangoServerSpan, otlpRequest, PYTHON_RESOURCE } from '../helpers/otlp-payloads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack: `otel-pg-analytics ingest` on a public address with a token anyone can guess.
 * A one-character token falls to at most 62 tries of [A-Za-z0-9], after which the guesser
 * writes any rows it likes. Off loopback the command now refuses a weak token.
 */

const CLI = 'dist/cli/otel-pg-analytics.js';
/** As `openssl rand -base64 32` makes them. */
const STRONG = 'Hq8+Wm3ZtK1vX6rB9nC2yL5pF0sJ7dG4aE8uT1iO3kM=';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('ingest_weak_token');
});

afterAll(async () => {
  await db.drop();
});

/** `otel-pg-analytics ingest` on `host` (0.0.0.0) with `token`; by default once it listens. */
function startIngest(token: string, options: { host?: string; waitForListening?: boolean } = {}) {
  return startApp(CLI, {
    register: false,
    args: ['ingest', '--host', options.host ?? '0.0.0.0', '--port', '0'],
    env: { OTEL_ANALYTICS_DATABASE_URL: db.url, OTEL_ANALYTICS_INGEST_TOKEN: token },
    waitForListening: options.waitForListening ?? true,
  });
}

describe('ingest off loopback with a guessable token', () => {
  it.each([
    ['one character', 'Q'],
    ['20 characters', 'k7Qw9xZp2Lm4Rt8Vb1Nc'],
    ['one character repeated', 'z'.repeat(48)],
  ])('refuses to start with a token of %s, saying what is needed, without printing it', async (_, token) => {
    const app = await startIngest(token, { waitForListening: false });
    const exit = await app.exited;
    expect(exit.code).toBe(2);
    const stderr = app.stderr();
    expect(stderr).toMatch(/refusing to listen on 0\.0\.0\.0 with a weak OTEL_ANALYTICS_INGEST_TOKEN/);
    expect(stderr).toContain('at least 32 characters');
    expect(stderr).toContain('openssl rand -base64 32');
    expect(stderr).toContain('node -e');
    // The refusal must not hand the token to whoever reads the logs.
    if (token.length > 1) expect(stderr + app.stdout()).not.toContain(token);
    else expect(stderr + app.stdout()).not.toMatch(new RegExp(`[^A-Za-z]${token}[^A-Za-z]`));
  });

  it('starts with a strong token, which a guesser does not pass, and never prints it', async () => {
    const app = await startIngest(STRONG);
    const url = app.url.replace('0.0.0.0', '127.0.0.1');
    const body = JSON.stringify(
      otlpRequest(PYTHON_RESOURCE, [{ scope: { name: 'django' }, spans: [djangoServerSpan()] }]),
    );
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    for (const guess of alphabet) {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${guess}` },
      });
      expect(response.status).toBe(401);
    }
    const owner = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${STRONG}` },
    });
    expect(owner.status).toBe(200);
    expect((await app.stop('SIGTERM')).code).toBe(0);
    expect(app.stdout() + app.stderr()).not.toContain(STRONG);
    const [row] = await db.query<{ n: string }>('select count(*) as n from api_access_log');
    expect(Number(row!.n)).toBe(1);
  });
});

describe('ingest with a token no sender can present', () => {
  it.each(['0.0.0.0', '127.0.0.1'])(
    'refuses to start on %s with a token with a space in it, saying why, without printing it',
    async (host) => {
      // Strong by length and variety, but "Authorization: Bearer" ends at the space: every
      // export would get 401.
      const [head, tail] = [STRONG.slice(0, 22), STRONG.slice(22)];
      const app = await startIngest(`${head} ${tail}`, { host, waitForListening: false });
      expect((await app.exited).code).toBe(2);
      const stderr = app.stderr();
      expect(stderr).toContain(
        `refusing to listen on ${host}: OTEL_ANALYTICS_INGEST_TOKEN has whitespace or a control character in it`,
      );
      expect(stderr).toContain('openssl rand -base64 32');
      expect(stderr + app.stdout()).not.toContain(head);
      expect(stderr + app.stdout()).not.toContain(tail);
    },
  );
});

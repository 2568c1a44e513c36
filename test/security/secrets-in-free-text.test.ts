import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { BENIGN_LINES, HOSTILE_LINES } from './secret-text-corpus.js';

/**
 * The attack of issue 12: secrets written as prose (`password hunter3`, `api key is …`,
 * `my secret is …`), with no `=` or `:` for the redactor to find, sent through a real app as a
 * request's error message and as a failed login's error and metadata. None may land; the
 * ordinary messages around them must land as written.
 */

describe('secrets written as prose into error messages and auth metadata', () => {
  let db: TestDatabase;
  /** Every stored text column of every row, as `[column, text]`. */
  let stored: { source: string; text: string }[];

  beforeAll(async () => {
    db = await createTestDatabase('security_free_text');
    const app = await startApp('test/fixtures/privacy-app.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    const lines = [...HOSTILE_LINES.map((l) => l.text), ...BENIGN_LINES];
    for (const line of lines) {
      for (const route of ['/error', '/auth-note']) {
        const response = await fetch(`${app.url}${route}`, {
          method: 'POST',
          headers: { 'x-user': 'mallory' },
          body: line,
        });
        await response.arrayBuffer();
      }
    }
    await app.stop();
    stored = await db.query<{ source: string; text: string }>(
      `select 'api.error_message' as source, error_message as text from api_access_log where path = '/error'
       union all select 'auth.error_message', error_message from authentication_log
       union all select 'auth.metadata.note', metadata->>'note' from authentication_log`,
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('recorded a row for every line sent', () => {
    const count = HOSTILE_LINES.length + BENIGN_LINES.length;
    for (const source of ['api.error_message', 'auth.error_message', 'auth.metadata.note']) {
      expect({ source, rows: stored.filter((s) => s.source === source).length }).toEqual({
        source,
        rows: count,
      });
    }
  });

  it('stores none of the secrets', () => {
    const leaks = stored.flatMap(({ source, text }) =>
      HOSTILE_LINES.filter((l) => text.includes(l.secret)).map((l) => `${source}: ${text} (${l.secret})`),
    );
    expect(leaks).toEqual([]);
  });

  it('stores every ordinary message as it was written', () => {
    for (const source of ['api.error_message', 'auth.error_message', 'auth.metadata.note']) {
      const texts = new Set(stored.filter((s) => s.source === source).map((s) => s.text));
      const changed = BENIGN_LINES.filter((line) => !texts.has(line));
      expect({ source, changed }).toEqual({ source, changed: [] });
    }
  });
});

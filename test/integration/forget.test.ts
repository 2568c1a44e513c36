import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forget } from '../../admin/forget.js';
import { packageRoot } from '../../admin/migrate.js';
import { pseudonymizeUserId } from '../../src/privacy/pseudonymize.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
const cli = path.join(packageRoot(), 'dist/cli/otel-pg-analytics.js');

const KEY = 'forget-test-key-0123456789abcdef';
const ALICE = 'alice@example.com';
const HOSTILE = `x'); delete from api_access_log; drop table authentication_log; --`;

let db: TestDatabase;
let span = 0;

/** One row for `userId` in each table with a user_id, with `metadata`. */
async function rowsFor(
  userId: string | null,
  metadata: Record<string, unknown> | null = null,
): Promise<void> {
  const json = metadata === null ? null : JSON.stringify(metadata);
  await db.query(
    `insert into api_access_log (time, span_id, user_id, endpoint, metadata) values (now(), $1, $2, '/x', $3)`,
    [`s${++span}`, userId, json],
  );
  await db.query(
    `insert into authentication_log (time, span_id, user_id, event_type, success, metadata)
     values (now(), $1, $2, 'login', true, $3)`,
    [`s${++span}`, userId, json],
  );
  await db.query(
    `insert into external_api_call_log (time, span_id, user_id, service, metadata) values (now(), $1, $2, 'openai', $3)`,
    [`s${++span}`, userId, json],
  );
}

/** Rows per user id (null included), over the three tables. */
async function usersLeft(): Promise<Record<string, number>> {
  const rows = await db.query<{ user_id: string | null; n: number }>(
    `select user_id, count(*)::int as n from (
       select user_id from api_access_log union all select user_id from authentication_log
       union all select user_id from external_api_call_log) u
     group by user_id`,
  );
  return Object.fromEntries(rows.map((row) => [row.user_id ?? 'null', row.n]));
}

beforeAll(async () => {
  db = await createTestDatabase('forget');
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
  await rowsFor(ALICE, { email: ALICE, method: 'password' });
  await rowsFor(pseudonymizeUserId(ALICE, KEY), { user: 'Alice', method: 'sso' });
  await rowsFor('bob', { email: 'bob@example.com' });
  await rowsFor('%');
  await rowsFor(HOSTILE);
  await rowsFor(null);
});

describe('forget', () => {
  it('deletes the rows of the id as given and of its pseudonym, in every table, and leaves the others', async () => {
    const result = await forget(db.url, { userId: ALICE, hmacKey: KEY });
    expect(result).toEqual({
      action: 'deleted',
      matchedPseudonym: true,
      tables: [
        { table: 'api_access_log', rows: 2 },
        { table: 'authentication_log', rows: 2 },
        { table: 'external_api_call_log', rows: 2 },
      ],
    });
    expect(await usersLeft()).toEqual({ bob: 3, '%': 3, [HOSTILE]: 3, null: 3 });
  });

  it('finds the pseudonym the helpers wrote for an id given with surrounding spaces (they trim it first)', async () => {
    const result = await forget(db.url, { userId: `  ${ALICE} `, hmacKey: KEY });
    expect(result.tables.map((t) => t.rows)).toEqual([1, 1, 1]);
    expect(await usersLeft()).not.toHaveProperty(pseudonymizeUserId(ALICE, KEY));
  });

  it('without the key matches only the id as given, leaving the pseudonymized rows', async () => {
    const result = await forget(db.url, { userId: ALICE });
    expect(result.matchedPseudonym).toBe(false);
    expect(result.tables.map((t) => t.rows)).toEqual([1, 1, 1]);
    expect(await usersLeft()).toMatchObject({ [pseudonymizeUserId(ALICE, KEY)]: 3 });
    expect(await usersLeft()).not.toHaveProperty(ALICE);
  });

  it('anonymizes: keeps the rows, with user_id null and user-naming metadata keys removed', async () => {
    const result = await forget(db.url, { userId: ALICE, hmacKey: KEY, anonymize: true });
    expect(result.action).toBe('anonymized');
    expect(result.tables.map((t) => t.rows)).toEqual([2, 2, 2]);
    expect(await usersLeft()).toEqual({ bob: 3, '%': 3, [HOSTILE]: 3, null: 9 });
    const metadata = await db.query<{ metadata: unknown }>(
      `select metadata from authentication_log where user_id is null and metadata is not null order by span_id`,
    );
    expect(metadata.map((row) => row.metadata)).toEqual([{ method: 'password' }, { method: 'sso' }]);
    // Bob's email stays: only the forgotten user's rows are touched.
    const [bob] = await db.query<{ metadata: unknown }>(
      `select metadata from authentication_log where user_id = 'bob'`,
    );
    expect(bob!.metadata).toEqual({ email: 'bob@example.com' });
  });

  it('takes SQL-looking and wildcard ids as data: only the exact id is erased', async () => {
    await forget(db.url, { userId: HOSTILE });
    await forget(db.url, { userId: '%' });
    expect(await usersLeft()).toEqual({ [ALICE]: 3, [pseudonymizeUserId(ALICE, KEY)]: 3, bob: 3, null: 3 });
    expect(await db.query(`select to_regclass('authentication_log') is not null as present`)).toEqual([
      { present: true },
    ]);
  });

  it('matches an id with a NUL byte as the exporter stored it, and refuses an empty one', async () => {
    await expect(forget(db.url, { userId: 'b\u0000ob' })).resolves.toMatchObject({
      tables: [{ rows: 1 }, { rows: 1 }, { rows: 1 }],
    });
    await expect(forget(db.url, { userId: '' })).rejects.toThrow('non-empty user id');
  });
});

describe('otel-pg-analytics forget', () => {
  it('prints the counts per table and changes nothing with --dry-run', async () => {
    const { stdout } = await run(
      process.execPath,
      [cli, 'forget', '--user', ALICE, '--dry-run', '--database-url', db.url],
      {
        env: { ...process.env, OTEL_ANALYTICS_HMAC_KEY: KEY },
      },
    );
    expect(stdout).toBe(
      [
        'matched the id as given and its HMAC pseudonym',
        'api_access_log: 2 rows would be erased',
        'authentication_log: 2 rows would be erased',
        'external_api_call_log: 2 rows would be erased',
        'dry run: nothing changed.',
        '',
      ].join('\n'),
    );
    expect(await usersLeft()).toMatchObject({ [ALICE]: 3, [pseudonymizeUserId(ALICE, KEY)]: 3 });
  });

  it('deletes with the key from --hmac-key-env, and refuses a named variable that is not set', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MY_PSEUDONYM_KEY: KEY,
      OTEL_ANALYTICS_DATABASE_URL: db.url,
    };
    delete env.OTEL_ANALYTICS_HMAC_KEY;
    const { stdout } = await run(
      process.execPath,
      [cli, 'forget', '--user', ALICE, '--hmac-key-env', 'MY_PSEUDONYM_KEY'],
      {
        env,
      },
    );
    expect(stdout).toContain('api_access_log: 2 rows deleted');
    expect(await usersLeft()).toEqual({ bob: 3, '%': 3, [HOSTILE]: 3, null: 3 });

    const missing = await run(
      process.execPath,
      [cli, 'forget', '--user', 'bob', '--hmac-key-env', 'NOT_SET_ANYWHERE'],
      {
        env,
      },
    ).catch((error: unknown) => error as { code: number; stderr: string });
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('NOT_SET_ANYWHERE, which is not set'),
    });
    expect(await usersLeft()).toHaveProperty('bob', 3);
  });

  it('anonymizes with --anonymize and says when no key was there to match pseudonyms', async () => {
    const env = { ...process.env };
    delete env.OTEL_ANALYTICS_HMAC_KEY;
    const { stdout } = await run(
      process.execPath,
      [cli, 'forget', '--user', 'bob', '--anonymize', '--database-url', db.url],
      {
        env,
      },
    );
    expect(stdout).toContain('matched the id as given only (no HMAC key');
    expect(stdout).toContain('authentication_log: 1 row anonymized');
    expect(await usersLeft()).not.toHaveProperty('bob');
  });

  it('exits 2 without --user', async () => {
    const failure = await run(process.execPath, [cli, 'forget', '--database-url', db.url]).catch(
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --user <id>') });
  });
});

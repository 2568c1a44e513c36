import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKysely } from '../../database/create-kysely.js';
import { queryWithLocalTimeout, setLocalStatementTimeout } from '../../database/local-statement-timeout.js';
import { withTransaction } from '../../database/with-transaction.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** `statement_timeout` of a fresh session: what the server gives every connection. */
async function serverDefault(db: TestDatabase): Promise<string> {
  const [row] = await db.query<{ statement_timeout: string }>('show statement_timeout');
  return row!.statement_timeout;
}

describe('statement_timeout for one transaction (queryWithLocalTimeout, withTransaction, createKysely)', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let unchanged: string;

  beforeAll(async () => {
    db = await createTestDatabase('local_statement_timeout', { schema: false });
    unchanged = await serverDefault(db);
  });

  afterAll(async () => {
    await db?.drop();
  });

  beforeEach(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });

  afterEach(async () => {
    await client.end();
  });

  const sessionSetting = async (): Promise<string> =>
    (await client.query<{ statement_timeout: string }>('show statement_timeout')).rows[0]!.statement_timeout;

  it('returns the statement’s own result, with its values bound', async () => {
    const result = await queryWithLocalTimeout(
      client,
      "select $1::int + 1 as answer, $2::text as text, current_setting('statement_timeout') as limit",
      [41, "it's"],
      1234,
    );
    expect(result.rows).toEqual([{ answer: 42, text: "it's", limit: '1234ms' }]);
    expect(result.fields.map((field) => field.name)).toEqual(['answer', 'text', 'limit']);
    expect(result.command).toBe('SELECT');
    expect(result.rowCount).toBe(1);
  });

  it('ends a statement that runs past the limit, and leaves the session as it was', async () => {
    expect(unchanged).not.toBe('200ms');
    const error = await queryWithLocalTimeout(client, 'select pg_sleep(5)', [], 200).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '57014', message: expect.stringContaining('statement timeout') });
    expect(await sessionSetting()).toBe(unchanged);
    // A statement within the limit runs to its end.
    const { rows } = await queryWithLocalTimeout(client, 'select pg_sleep(0.05) is null as slept', [], 2000);
    expect(rows).toEqual([{ slept: false }]);
    expect(await sessionSetting()).toBe(unchanged);
  });

  it('reports a failing statement as pg does, and the client goes on', async () => {
    const error = await queryWithLocalTimeout(client, 'select * from no_such_table', [], 1000).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: '42P01' });
    expect((await queryWithLocalTimeout(client, 'select 1 as one', [], 1000)).rows).toEqual([{ one: 1 }]);
  });

  it('holds to the end of a transaction block it runs in, and not beyond', async () => {
    await client.query('begin');
    await queryWithLocalTimeout(client, 'select 1', [], 300);
    const inside = await client.query<{ limit: string }>(
      "select current_setting('statement_timeout') as limit",
    );
    expect(inside.rows[0]!.limit).toBe('300ms');
    await client.query('commit');
    expect(await sessionSetting()).toBe(unchanged);
  });

  it('refuses a limit that is not a whole number of ms, before sending anything', () => {
    expect(() => setLocalStatementTimeout(1.5)).toThrow(RangeError);
    expect(() => setLocalStatementTimeout(-1)).toThrow(RangeError);
    expect(setLocalStatementTimeout(15_000)).toBe('set local statement_timeout = 15000');
  });

  it('withTransaction applies statementTimeoutMillis to its transaction only', async () => {
    const config = {
      connectionString: db.url,
      applicationName: 'pga timeout test',
      statementTimeoutMillis: 250,
    };
    const seen = await withTransaction(config, async (tx) => {
      const { rows } = await tx.query<{ limit: string }>(
        "select current_setting('statement_timeout') as limit",
      );
      return rows[0]!.limit;
    });
    expect(seen).toBe('250ms');
    await expect(withTransaction(config, (tx) => tx.query('select pg_sleep(5)'))).rejects.toMatchObject({
      code: '57014',
    });
    // Without the option, the server's own setting.
    const plain = await withTransaction(
      db.url,
      async (tx) =>
        (await tx.query<{ limit: string }>("select current_setting('statement_timeout') as limit")).rows[0]!
          .limit,
    );
    expect(plain).toBe(unchanged);
  });

  it('createKysely over a client with statementTimeoutMillis limits each statement', async () => {
    const db2 = createKysely({ client, statementTimeoutMillis: 200 });
    const limit = await sql<{ limit: string }>`select current_setting('statement_timeout') as limit`.execute(
      db2,
    );
    expect(limit.rows).toEqual([{ limit: '200ms' }]);
    await expect(sql`select pg_sleep(5)`.execute(db2)).rejects.toMatchObject({ code: '57014' });
    expect(await sessionSetting()).toBe(unchanged);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionFailedError } from '../../database/connection-failed-error.js';
import { createKysely } from '../../database/create-kysely.js';
import { withClient } from '../../database/with-client.js';
import { withTransaction } from '../../database/with-transaction.js';
import { unusedPort } from '../helpers/ports.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** The sessions of `application_name` still connected to the test database. */
async function sessions(db: TestDatabase, applicationName: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    'select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = $2',
    [db.name, applicationName],
  );
  return row!.n;
}

describe('withClient, withTransaction and createKysely', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('with_client');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('ends its own client after the callback, also when the callback throws', async () => {
    const config = { connectionString: db.url, applicationName: 'pga with-client test' };
    const seen = await withClient(config, async (client) => {
      const { rows } = await client.query<{ name: string }>('select current_setting($1) as name', [
        'application_name',
      ]);
      return { name: rows[0]!.name, open: await sessions(db, config.applicationName) };
    });
    expect(seen).toEqual({ name: 'pga with-client test', open: 1 });
    await expect(withClient(config, () => Promise.reject(new Error('callback failed')))).rejects.toThrow(
      'callback failed',
    );
    expect(await sessions(db, config.applicationName)).toBe(0);
  });

  it('commits when the callback returns and rolls back when it throws', async () => {
    const time = '2026-01-05T10:00:00.000000Z';
    await withTransaction(db.url, async (client) => {
      await createKysely({ client })
        .insertInto('authentication_log')
        .values({ time, span_id: 'kept', event_type: 'login', success: true })
        .execute();
    });
    await expect(
      withTransaction(db.url, async (client) => {
        await createKysely({ client })
          .insertInto('authentication_log')
          .values({ time, span_id: 'undone', event_type: 'login', success: false })
          .execute();
        throw new Error('undo it');
      }),
    ).rejects.toThrow('undo it');
    expect(await db.query('select span_id, event_type, success from authentication_log')).toEqual([
      { span_id: 'kept', event_type: 'login', success: true },
    ]);
  });

  it('begins a read-only repeatable-read transaction when asked', async () => {
    const settings = await withTransaction(
      db.url,
      async (client) =>
        (
          await client.query<{ isolation: string; readOnly: string }>(
            `select current_setting('transaction_isolation') as isolation,
                    current_setting('transaction_read_only') as "readOnly"`,
          )
        ).rows[0],
      { isolationLevel: 'repeatable read', readOnly: true },
    );
    expect(settings).toEqual({ isolation: 'repeatable read', readOnly: 'on' });
  });

  it('checks a client out of a pool and releases it, destroying one whose callback failed', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pool.on('error', () => {});
    try {
      const first = await withClient(
        pool,
        async (client) => (await client.query('select pg_backend_pid() as pid')).rows[0],
      );
      const again = await withClient(
        pool,
        async (client) => (await client.query('select pg_backend_pid() as pid')).rows[0],
      );
      expect(again).toEqual(first);
      await expect(withClient(pool, () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
      expect(pool.totalCount).toBe(0);
      const rows = await createKysely({ pool }).selectFrom('api_access_log').select('id').execute();
      expect(rows).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('throws the driver error for a refused connection, or explains it when asked', async () => {
    const url = `postgres://app:secret@127.0.0.1:${await unusedPort()}/analytics`;
    const raw = await withClient(url, () => Promise.resolve()).catch((error: unknown) => error);
    expect(raw).not.toBeInstanceOf(ConnectionFailedError);
    expect((raw as { code?: string }).code).toBe('ECONNREFUSED');
    const explained = await withClient(
      { connectionString: url, applicationName: 'pga test', explainConnectionErrors: true },
      () => Promise.resolve(),
    ).catch((error: unknown) => error);
    expect(explained).toBeInstanceOf(ConnectionFailedError);
    expect((explained as ConnectionFailedError).failure.reason).toBe('refused');
    const unreadable = await withClient(
      {
        connectionString: 'postgres://app:secret@db:not-a-port/x',
        applicationName: 'pga test',
        explainConnectionErrors: true,
      },
      () => Promise.resolve(),
    ).catch((error: unknown) => error);
    expect((unreadable as ConnectionFailedError).failure).toEqual({
      reason: 'invalid_connection_string',
      message: 'not a connection string pg can read (Invalid URL)',
      fix: 'write it as postgres://user:password@host:port/database',
    });
  });
});

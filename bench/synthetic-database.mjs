// @ts-check
import pg from 'pg';
import { migrate } from '../dist/admin/migrate.js';
import { syntheticRowsSql } from './synthetic-rows.mjs';

const DAY = 86_400_000;

/**
 * A database of a benchmark's own on the server TEST_DATABASE_URL names (default
 * postgres://postgres@127.0.0.1:5432/test), migrated and filled with 30 days of synthetic rows
 * ending now (`apiRows` API requests, a tenth as many auth events, a sixth as many external
 * calls) unless `reuse` finds it there already. Returns a connected client (the caller ends it)
 * and the database's URL.
 *
 * @param {string} name
 * @param {{ apiRows: number, reuse: boolean, out: NodeJS.WritableStream }} options
 * @returns {Promise<{ client: pg.Client, url: string }>}
 */
export async function openSyntheticDatabase(name, { apiRows, reuse, out }) {
  const admin = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  const exists =
    (await adminClient.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  if (!reuse || !exists) {
    await adminClient.query(`drop database if exists ${name} with (force)`);
    await adminClient.query(`create database ${name}`);
  }
  await adminClient.end();
  await migrate(url.toString());

  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  if (!reuse || !exists) {
    const started = Date.now();
    const now = new Date();
    out.write(`filling ${name}: ${apiRows} API rows over 30 days...\n`);
    // Daily partitions for the whole month first, as a database kept by migrate would have.
    await client.query(
      `select count(*) from analytics_ensure_partitions(since => now() - interval '31 days')`,
    );
    for (const statement of syntheticRowsSql({
      from: new Date(now.getTime() - 30 * DAY),
      to: now,
      apiRows,
      authRows: Math.round(apiRows / 10),
      callRows: Math.round(apiRows / 6),
    })) {
      await client.query(statement);
    }
    out.write(`filled in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  return { client, url: url.toString() };
}

// The benchmark's database: a fresh `pga_bench` on the local server (or BENCH_DATABASE_URL),
// else on an embedded PostgreSQL, as the tests and the demo do.
import pg from 'pg';
import { canConnect, startEmbeddedPostgres } from '../examples/support/embedded-postgres.mjs';

export async function startBenchPostgres() {
  let admin = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let stop = async () => {};
  let description = `PostgreSQL at ${new URL(admin).host}`;
  if (!(await canConnect(admin))) {
    const embedded = await startEmbeddedPostgres();
    admin = embedded.url;
    stop = embedded.stop;
    description = 'embedded PostgreSQL';
  }
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query('drop database if exists pga_bench with (force)');
  await client.query('create database pga_bench');
  const { rows } = await client.query('show server_version');
  await client.end();
  const url = new URL(admin);
  url.pathname = '/pga_bench';
  return { url: url.toString(), description: `${description} ${rows[0].server_version}`, stop };
}

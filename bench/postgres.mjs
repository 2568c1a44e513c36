// The benchmark's database: a fresh one of this run's own (`pga_bench_<pid>`, so two runs never
// drop each other's) on the local server (or BENCH_DATABASE_URL), else on an embedded
// PostgreSQL, as the tests and the demo do; `BENCH_DATABASE_URL=embedded` asks for the embedded
// one (a cluster of the benchmark's own, when others use the local server). On a Citus
// coordinator (BENCH_DATABASE_URL naming a database with the citus extension), a schema of the
// run's own in that database instead. Dropped again by stop().
import pg from 'pg';
import { canConnect, startEmbeddedPostgres } from '../dev/embedded-postgres.mjs';

export async function startBenchPostgres() {
  const wanted = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let admin = wanted;
  let stop = async () => {};
  let description = wanted === 'embedded' ? '' : `PostgreSQL at ${new URL(admin).host}`;
  if (wanted === 'embedded' || !(await canConnect(admin))) {
    const embedded = await startEmbeddedPostgres();
    admin = embedded.url;
    stop = embedded.stop;
    description = 'embedded PostgreSQL';
  }
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  const name = `pga_bench_${process.pid}`;
  const { rows } = await client.query('show server_version');
  const [{ citus }] = (
    await client.query("select exists (select from pg_extension where extname = 'citus') as citus")
  ).rows;
  const url = new URL(admin);
  let drop;
  if (citus) {
    // A Citus coordinator: a schema of this run's own in the given database, whose workers know
    // it (a new database would need the extension and the workers registered again).
    await client.query(`drop schema if exists ${name} cascade`);
    await client.query(`create schema ${name}`);
    // Spaces as %20, not URLSearchParams' `+`, which libpq (psql \copy) does not decode.
    url.search = `?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    drop = `drop schema if exists ${name} cascade`;
    description = `Citus ${await citusVersion(client)} coordinator at ${url.host}, PostgreSQL`;
  } else {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
    url.pathname = `/${name}`;
    drop = `drop database if exists ${name} with (force)`;
  }
  await client.end();
  const dropAndStop = async () => {
    const dropper = new pg.Client({ connectionString: admin });
    await dropper.connect();
    await dropper.query(drop);
    await dropper.end();
    await stop();
  };
  return { url: url.toString(), description: `${description} ${rows[0].server_version}`, stop: dropAndStop };
}

/** @param {pg.Client} client */
async function citusVersion(client) {
  const { rows } = await client.query("select extversion from pg_extension where extname = 'citus'");
  return rows[0]?.extversion ?? '';
}

// The benchmark's database: a fresh one of this run's own (`pga_bench_<pid>`, so two runs never
// drop each other's) on the local server (or BENCH_DATABASE_URL), else on an embedded
// PostgreSQL, as the tests and the demo do; `BENCH_DATABASE_URL=embedded` asks for the embedded
// one (a cluster of the benchmark's own, when others use the local server). Dropped again by
// stop().
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
  await client.query(`drop database if exists ${name} with (force)`);
  await client.query(`create database ${name}`);
  const { rows } = await client.query('show server_version');
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const dropAndStop = async () => {
    const drop = new pg.Client({ connectionString: admin });
    await drop.connect();
    await drop.query(`drop database if exists ${name} with (force)`);
    await drop.end();
    await stop();
  };
  return { url: url.toString(), description: `${description} ${rows[0].server_version}`, stop: dropAndStop };
}

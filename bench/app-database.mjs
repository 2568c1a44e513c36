// The realistic scenario's own database (`<bench database>_app`, beside the analytics one, on the
// same server): 1,000 users with five orders each. reset() puts it back between runs, so every
// mode meets the same table sizes; drop() removes it.
import pg from 'pg';

const SCHEMA = `
create table users (
  id int primary key,
  name text not null,
  email text not null unique,
  order_count int not null default 0,
  created_at timestamptz not null default now()
);
create table orders (
  id bigint generated always as identity primary key,
  user_id int not null references users (id),
  total_cents int not null,
  lines jsonb not null,
  created_at timestamptz not null default now()
);
create index orders_user_created on orders (user_id, created_at desc);
insert into users (id, name, email)
  select i, 'user ' || i, 'user' || i || '@example.com' from generate_series(1, 1000) as i;
`;

const SEED_ORDERS = `
truncate orders restart identity;
insert into orders (user_id, total_cents, lines, created_at)
  select u, 100 + (u * 7 + n) % 9000, '[{"sku":"A-100","quantity":1,"unitCents":450}]',
         now() - make_interval(days => n)
  from generate_series(1, 1000) as u, generate_series(1, 5) as n;
update users set order_count = 5;
`;

/**
 * Creates the app's database on the server of `benchUrl` (dropping a leftover of the same name).
 * @param {string} benchUrl  the benchmark's own database
 */
export async function createAppDatabase(benchUrl) {
  const url = new URL(benchUrl);
  const name = `${url.pathname.slice(1)}_app`;
  url.pathname = `/${name}`;
  /** @param {string} connectionString @param {string} sql */
  const run = async (connectionString, sql) => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(benchUrl, `drop database if exists ${name} with (force)`);
  await run(benchUrl, `create database ${name}`);
  // VACUUM cannot share a query string with other statements (they run as one transaction).
  const reset = async () => {
    await run(url.toString(), SEED_ORDERS);
    await run(url.toString(), 'vacuum analyze users, orders');
  };
  await run(url.toString(), SCHEMA);
  await reset();
  return {
    url: url.toString(),
    reset,
    drop: () => run(benchUrl, `drop database if exists ${name} with (force)`),
  };
}

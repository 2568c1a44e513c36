import type { CitusSchema } from './citus.js';

/** The three log tables, which the distributed layout spreads over the workers. */
export const LOG_TABLES = ['api_access_log', 'authentication_log', 'external_api_call_log'] as const;

/** Rows per log table, read through the coordinator. */
export async function logRowCounts(citus: CitusSchema): Promise<Record<string, number>> {
  const [row] = await citus.query<Record<string, number>>(
    `select ${LOG_TABLES.map((t) => `(select count(*)::int from ${t}) as ${t}`).join(', ')}`,
  );
  return row!;
}

/** Rows of `table` per worker port, counted on the shards themselves. */
export async function rowsPerWorker(citus: CitusSchema, table: string): Promise<Record<string, number>> {
  const rows = await citus.query<{ port: number; n: number }>(
    `select p.nodeport as port, sum(r.result::int)::int as n
     from run_command_on_shards($1, 'select count(*) from %s') r join pg_dist_shard_placement p using (shardid)
     group by 1 order by 1`,
    [`${citus.schema}.${table}`],
  );
  return Object.fromEntries(rows.map((r) => [r.port, r.n]));
}

import { sql } from 'kysely';
import { createKysely } from '../database/create-kysely.js';
import type { ConnectionConfig } from '../database/database-connection.js';
import { withClient } from '../database/with-client.js';
import { rollUpWith, type RolledUp } from './roll-up.js';

/** Days of partitions `otel-pg-analytics partitions` keeps ahead of today. */
export const DEFAULT_PARTITION_DAYS_AHEAD = 7;

/**
 * A retention such as `30d`, `12h` or `2w` as a PostgreSQL interval (`30 days`), or
 * `undefined` when it is not one.
 */
export function parseRetention(text: string): string | undefined {
  const match = /^\s*(\d{1,5})\s*([hdw])\s*$/i.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  if (amount === 0) return undefined;
  const unit = { h: 'hours', d: 'days', w: 'weeks' }[match[2]!.toLowerCase() as 'h' | 'd' | 'w'];
  return `${amount} ${unit}`;
}

/**
 * Creates the daily partitions of the log tables from yesterday to `daysAhead` days ahead
 * (moving rows of those days out of the DEFAULT partitions), and, where the hourly rollups are
 * kept by a scheduled roll-up rather than triggers (Citus), rolls up the rows written since the
 * last run (as `rollUp` does). Returns the partitions created. Needs the owner role.
 */
export async function ensurePartitions(
  connectionString: string,
  daysAhead = DEFAULT_PARTITION_DAYS_AHEAD,
): Promise<string[]> {
  return (await partitionUpkeep(connectionString, daysAhead)).created;
}

/** What {@link partitionUpkeep} did. */
export interface PartitionUpkeep {
  /** Partitions created. */
  created: string[];
  /** Rows rolled up per log table; `[]` where triggers keep the rollups (no roll-up function). */
  rolledUp: RolledUp[];
}

/** {@link ensurePartitions}, telling the rows it rolled up too (the `partitions` command prints them). */
export async function partitionUpkeep(connectionString: string, daysAhead: number): Promise<PartitionUpkeep> {
  return withClient(partitionsConnection(connectionString), async (client) => {
    const db = createKysely({ client });
    const query = sql<Partition>`select analytics_ensure_partitions(1, ${daysAhead}) as name`;
    const { rows } = await query.execute(db);
    return { created: rows.map((row) => row.name), rolledUp: await rollUpWith(db) };
  });
}

/**
 * Retention: drops the daily partitions whose day ended more than `olderThan` (a PostgreSQL
 * interval, see {@link parseRetention}) ago, and deletes older rows from the DEFAULT
 * partitions. Returns the partitions dropped. Needs the owner role.
 */
export async function prunePartitions(connectionString: string, olderThan: string): Promise<string[]> {
  return withClient(partitionsConnection(connectionString), async (client) => {
    const query = sql<Partition>`select analytics_prune_partitions(${olderThan}::interval) as name`;
    const { rows } = await query.execute(createKysely({ client }));
    return rows.map((row) => row.name);
  });
}

/** A row of the partition functions: the partition created or dropped. */
interface Partition {
  name: string;
}

function partitionsConnection(connectionString: string): ConnectionConfig {
  return { connectionString, applicationName: 'otel-pg-analytics partitions' };
}

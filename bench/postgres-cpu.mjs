// CPU time of a whole PostgreSQL cluster, from /proc: for the system benchmark, where the
// database's work (the backends writing rows, the WAL writer, the checkpointer...) is part of
// what an analytics pipeline costs.
//
// Backends come and go (the relay's and the app's pools open and close connections), so a sum
// over the processes alive at the start and at the end would miss those that lived in between,
// and lose the time of those that ended. Linux adds a child's CPU time (its own and its reaped
// children's) to its parent's `cutime`/`cstime` when the parent reaps it, and the postmaster
// reaps every PostgreSQL process (they are all its children). So the cluster's total so far is
//   postmaster's utime + stime + cutime + cstime
//   + for every live child of the postmaster: utime + stime + cutime + cstime
// (a zombie still shows its times until reaped), and the difference of two totals is exactly the
// CPU the cluster used in between, whatever started or ended. One race remains: a child reaped
// between reading the postmaster and listing its children would be counted in neither; so the
// postmaster is read again after the list, and the total taken again if its cutime/cstime moved.
// The /proc of the server must be this machine's (a local cluster, not one in another container).
import { readdirSync } from 'node:fs';
import { CLOCK_TICKS, statOf } from './harness.mjs';

/** utime + stime + cutime + cstime, in clock ticks. @param {string[]} fields */
function ticks(fields) {
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
}

/**
 * The postmaster's pid: the parent of the backend serving `db` (a pg.Client connected to the
 * cluster). Throws when that backend's process is not visible here.
 * @param {{ query: (sql: string) => Promise<{ rows: { pid: number }[] }> }} db
 */
export async function postmasterOf(db) {
  const { rows } = await db.query('select pg_backend_pid() as pid');
  const backend = rows[0]?.pid;
  const fields = backend === undefined ? undefined : statOf(backend);
  if (fields === undefined) {
    throw new Error(
      `PostgreSQL's backend ${backend} is not in this machine's /proc: the system benchmark needs a local cluster`,
    );
  }
  return Number(fields[1]);
}

/**
 * CPU seconds the cluster of `postmaster` has used so far (see the top of this file), leaving
 * out the live processes in `exclude` (the benchmark's own connection, which polls for rows:
 * its work is the benchmark's, not the pipeline's; it must stay open between two readings).
 * @param {number} postmaster
 * @param {readonly number[]} [exclude]  pids of backends
 */
export function clusterCpuSeconds(postmaster, exclude = []) {
  for (let attempt = 0; ; attempt++) {
    const before = statOf(postmaster);
    if (before === undefined) throw new Error(`the postmaster (pid ${postmaster}) is gone`);
    let total = ticks(before);
    for (const entry of readdirSync('/proc')) {
      if (entry.charCodeAt(0) > 57 || entry === String(postmaster)) continue; // not a pid
      const fields = statOf(entry);
      if (fields === undefined || Number(fields[1]) !== postmaster || exclude.includes(Number(entry)))
        continue;
      total += ticks(fields);
    }
    const after = statOf(postmaster);
    if (after !== undefined && after[13] === before[13] && after[14] === before[14]) {
      return total / CLOCK_TICKS;
    }
    if (attempt === 10) throw new Error('the cluster reaped children during every reading');
  }
}

import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import os from 'node:os';
import {
  findUnsafeSpoolPath,
  spoolPathProblem,
  UnsafeSpoolPathError,
  type RefusedSpoolPath,
} from './spool-path-problem.js';
import { readSpoolLock, type SpoolLock } from './spool-lock.js';

/** Folders of processes that died without a lock file are adopted once this old. */
const UNLOCKED_FOLDER_GRACE_MILLIS = 60_000;

/**
 * Whether `folder`, in a spool directory, is an orphan to adopt for `target`: left by a dead
 * process of this host spooling for the same database, judged by its lock (read only from a
 * folder and a lock file no other user could have written). When it is, or could be, and
 * something in it another user could have written, says what (it is then never read). Rejects
 * when the folder goes meanwhile.
 */
export async function judgeOrphanFolder(
  folder: string,
  target: string,
  uid: number | undefined,
): Promise<'orphan' | 'not-orphan' | RefusedSpoolPath> {
  const verdict = await judgeByLock(folder, target, uid);
  return verdict === 'orphan' ? ((await findUnsafeSpoolPath(folder, uid)) ?? 'orphan') : verdict;
}

async function judgeByLock(
  folder: string,
  target: string,
  uid: number | undefined,
): Promise<'orphan' | 'not-orphan' | RefusedSpoolPath> {
  const info: Stats = await lstat(folder);
  const problem = spoolPathProblem(info, 'directory', uid);
  if (problem !== undefined) return { path: folder, problem };
  let lock: Partial<SpoolLock>;
  try {
    lock = await readSpoolLock(folder, uid);
  } catch (error) {
    if (error instanceof UnsafeSpoolPathError) return error.refused;
    // No readable lock: a folder being created right now, or a process that died creating it.
    return Date.now() - info.mtimeMs > UNLOCKED_FOLDER_GRACE_MILLIS ? 'orphan' : 'not-orphan';
  }
  if (lock.target !== target) return 'not-orphan';
  // Another host's process cannot be checked: its folder is left to that host.
  if (lock.host !== os.hostname() || typeof lock.pid !== 'number') return 'not-orphan';
  // Our own pid on a folder that is not ours: an earlier run of this process (a container
  // restarted with the same pid).
  return lock.pid === process.pid || !isAlive(lock.pid) ? 'orphan' : 'not-orphan';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

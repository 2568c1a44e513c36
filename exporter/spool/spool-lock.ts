import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readSpoolFile } from './spool-path-problem.js';

/** The lock file of a spool folder: which process spools in it, and for which database. */
export interface SpoolLock {
  pid: number;
  host: string;
  /** The database the rows are for (see `spool-target.ts`). */
  target: string;
  startedAt: string;
}

const LOCK_FILE = 'lock';
/** Spool files are the process user's alone (before the umask narrows further). */
const PRIVATE_FILE_MODE = 0o600;

/** Marks `folder` as this process's, spooling for `target` (never over an existing file). */
export async function writeSpoolLock(folder: string, target: string): Promise<void> {
  const lock: SpoolLock = {
    pid: process.pid,
    host: os.hostname(),
    target,
    startedAt: new Date().toISOString(),
  };
  await writeFile(path.join(folder, LOCK_FILE), JSON.stringify(lock), {
    mode: PRIVATE_FILE_MODE,
    flag: 'wx',
  });
}

/**
 * The lock of `folder`, read only from a file no other user could have written: rejects with
 * an `UnsafeSpoolPathError` when another could have, or with the error that kept it unread.
 */
export async function readSpoolLock(folder: string, uid: number | undefined): Promise<Partial<SpoolLock>> {
  return JSON.parse(
    (await readSpoolFile(path.join(folder, LOCK_FILE), uid)).toString('utf8'),
  ) as Partial<SpoolLock>;
}

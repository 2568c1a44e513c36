import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { spoolPathProblem, UnsafeSpoolPathError, type SpoolPathStats } from './spool-path-problem.js';

/** Spool directories are the process user's alone (before the umask narrows further). */
const PRIVATE_DIRECTORY_MODE = 0o700;

/**
 * The folder the spool makes for itself in a directory other users can write:
 * `otel-pg-analytics-<euid>`.
 */
export function privateSpoolFolderName(uid: number): string {
  return `otel-pg-analytics-${uid}`;
}

/** Whether a name in a spool directory is a user's private folder (never an instance folder). */
export function isPrivateSpoolFolderName(name: string): boolean {
  return /^otel-pg-analytics-\d+$/.test(name);
}

/**
 * The directory the spool works in, for the configured `dir`:
 *
 * - `dir` itself when it is this user's alone: owned by `uid`, writable by no one else (a
 *   symbolic link `uid` owns is followed; its target must be such a directory);
 * - else (another user could write it: a Kubernetes `emptyDir` is `0777`, a volume with an
 *   `fsGroup` `2775`, a mount root is often root's) its folder
 *   `<dir>/otel-pg-analytics-<uid>`, made `0700` and checked like everything the spool reads:
 *   a directory (not a symbolic link), owned by `uid`, writable by no one else. Another user who
 *   can write `dir` can make that name first (it is then refused and the spool is off) or move
 *   the folder away, but cannot make anything in it that this user would trust, so cannot plant
 *   rows. The folder is also used when it exists in a directory that became this user's alone
 *   since, so its rows are not left behind.
 *
 * With `create`, `dir` (with its parents) and the folder are made when missing; without it
 * nothing is made, and `undefined` means there is no spool there yet. `uid` is `undefined`
 * where files have no POSIX owner (Windows): `dir` is used as it is. Throws an
 * {@link UnsafeSpoolPathError} saying what to do when the spool cannot work there.
 */
export async function resolveSpoolDirectory(
  dir: string,
  uid: number | undefined,
  { create }: { create: boolean },
): Promise<string | undefined> {
  if (create) await mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const own = await lstatOrUndefined(dir);
  if (own === undefined) return undefined;
  let info: SpoolPathStats = own;
  if (own.isSymbolicLink()) {
    const linkProblem = spoolPathProblem(own, 'directory', uid, { link: 'owned' });
    if (linkProblem !== undefined) throw refusedDirectory(dir, linkProblem);
    info = await stat(dir);
    if (!info.isDirectory()) {
      throw refusedDirectory(dir, `is a symbolic link to ${await realpath(dir)}, which is not a directory`);
    }
  } else if (!own.isDirectory()) {
    throw refusedDirectory(dir, 'is not a directory');
  }
  if (uid === undefined) return dir;
  const folder = path.join(dir, privateSpoolFolderName(uid));
  const shared = spoolPathProblem(info, 'directory', uid) !== undefined;
  if (create && shared) {
    try {
      await mkdir(folder, { mode: PRIVATE_DIRECTORY_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const folderStats = await lstatOrUndefined(folder);
  if (folderStats === undefined) return shared && !create ? undefined : dir;
  const problem = spoolPathProblem(folderStats, 'directory', uid);
  if (problem === undefined) return folder;
  throw new UnsafeSpoolPathError(
    { path: folder, problem },
    `${folder} ${problem}: the spool works in this folder of its own, since ${dir} ${shared ? 'can be written by other users' : 'could be written by other users when it was made'}, ` +
      `and another user could have put rows in it for this process to write as its own. ` +
      `If it is not this user's, remove ${folder} (another user made it first) and restart; ` +
      `or set OTEL_ANALYTICS_SPOOL_DIR to a directory only this user can write`,
  );
}

function refusedDirectory(dir: string, problem: string): UnsafeSpoolPathError {
  return new UnsafeSpoolPathError(
    { path: dir, problem },
    `${dir} ${problem}: the spool needs a directory, or this user's own symbolic link to one (whoever owns ` +
      `a link chooses where the rows this process replays come from); set OTEL_ANALYTICS_SPOOL_DIR to one`,
  );
}

async function lstatOrUndefined(file: string): Promise<SpoolPathStats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { AnalyticsError } from '../../src/errors.js';

/**
 * Whether the spool can trust a path with rows to replay. Rows read from the spool are written
 * to PostgreSQL as the app's own role, so anything another user could have written (a folder
 * planted before the app made the directory, a segment swapped in) would be forged rows: a
 * path must be what is expected (a directory or a regular file; a symbolic link is neither),
 * owned by the process's user, and writable by no one else. The ownership is the defence; the
 * database digest in a folder's lock only says which database its rows are for.
 */

/** The parts of `fs.Stats` the check reads. */
export interface SpoolPathStats {
  uid: number;
  mode: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export type SpoolPathKind = 'directory' | 'file';

/** A path the spool refuses, and why (a phrase after the path: "is writable by ..."). */
export interface RefusedSpoolPath {
  path: string;
  problem: string;
}

/**
 * Why a path with these (`lstat`) stats cannot be trusted by the user `uid`, or `undefined`
 * when it can. With `link: 'owned'`, a symbolic link is accepted when `uid` owns it (an
 * operator's deliberate link; its target is checked next). `uid` is `undefined` where files
 * have no POSIX owner (Windows): then only the kind is checked.
 */
export function spoolPathProblem(
  stats: SpoolPathStats,
  kind: SpoolPathKind,
  uid: number | undefined,
  options: { link?: 'refused' | 'owned' } = {},
): string | undefined {
  if (stats.isSymbolicLink()) {
    if (options.link !== 'owned') return `is a symbolic link, not a ${kindName(kind)}`;
    if (uid !== undefined && stats.uid !== uid) {
      return `is a symbolic link owned by uid ${stats.uid}, not by this process's user (uid ${uid})`;
    }
    return undefined;
  }
  if (kind === 'directory' ? !stats.isDirectory() : !stats.isFile()) return `is not a ${kindName(kind)}`;
  if (uid === undefined) return undefined;
  if (stats.uid !== uid) return `is owned by uid ${stats.uid}, not by this process's user (uid ${uid})`;
  if (stats.mode & 0o002) return `is writable by other users (mode ${octal(stats.mode)})`;
  if (stats.mode & 0o020) return `is writable by its group (mode ${octal(stats.mode)})`;
  return undefined;
}

/**
 * The user whose spool files are trusted: this process's effective user, the owner of the
 * files it makes (`undefined` on Windows).
 */
export function processUid(): number | undefined {
  return process.geteuid?.();
}

/**
 * The first path in `folder`, the folder included and at any depth, that cannot be trusted;
 * `undefined` when all can. Nothing is followed or read: names and `lstat` only.
 */
export async function findUnsafeSpoolPath(
  folder: string,
  uid: number | undefined,
): Promise<RefusedSpoolPath | undefined> {
  const problem = spoolPathProblem(await lstat(folder), 'directory', uid);
  if (problem !== undefined) return { path: folder, problem };
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = await findUnsafeSpoolPath(file, uid);
      if (inner) return inner;
      continue;
    }
    const fileProblem = spoolPathProblem(await lstat(file), 'file', uid);
    if (fileProblem !== undefined) return { path: file, problem: fileProblem };
  }
  return undefined;
}

/**
 * Reads a spool file (a lock, a segment) without following a symbolic link, and only when the
 * file opened passes the check: its `fstat`, so it cannot be swapped between the check and the
 * read. Throws a {@link UnsafeSpoolPathError} for a file that does not pass.
 */
export async function readSpoolFile(file: string, uid: number | undefined): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new UnsafeSpoolPathError({ path: file, problem: 'is a symbolic link, not a regular file' });
    }
    throw error;
  }
  try {
    const problem = spoolPathProblem(await handle.stat(), 'file', uid);
    if (problem !== undefined) throw new UnsafeSpoolPathError({ path: file, problem });
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** A spool path (the directory, a folder, a file) not used because it cannot be trusted. */
export class UnsafeSpoolPathError extends AnalyticsError {
  readonly refused: RefusedSpoolPath;

  constructor(refused: RefusedSpoolPath, message = `${refused.path} ${refused.problem}`) {
    super('ERR_OTEL_PG_ANALYTICS_UNSAFE_SPOOL_PATH', message);
    this.refused = refused;
  }
}

function kindName(kind: SpoolPathKind): string {
  return kind === 'file' ? 'regular file' : 'directory';
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

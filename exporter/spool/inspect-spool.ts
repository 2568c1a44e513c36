import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isPrivateSpoolFolderName, resolveSpoolDirectory } from './spool-directory.js';
import { isSegmentName } from './spool-segment.js';
import {
  findUnsafeSpoolPath,
  processUid,
  UnsafeSpoolPathError,
  type RefusedSpoolPath,
} from './spool-path-problem.js';

/** What waits in a spool directory. */
export interface SpoolSummary {
  dir: string;
  /** Whether `dir` exists (a spool dir is created by the first process that spools). */
  exists: boolean;
  /**
   * Where the app spools: `dir`, or, when other users can write `dir`, its private folder
   * `otel-pg-analytics-<euid>`. `undefined` when the app has not made that folder yet.
   */
  spoolsIn?: string;
  /**
   * What the app would refuse, and why, so the spool is off (`dir` is a symbolic link another
   * user owns; its private folder was made by another user); then nothing is counted.
   */
  problem?: RefusedSpoolPath;
  /** Folders the app would refuse (something in them another user could have written). */
  refused: RefusedSpoolPath[];
  /** Instance folders: one per process that used this spool dir. */
  instanceFolders: number;
  /** Instance folders holding at least one segment. */
  pendingFolders: number;
  /** Segment files (`<10-digit sequence>.seg`) waiting to be replayed. */
  segments: number;
  /** Their total size. */
  bytes: number;
}

/**
 * Counts the segments waiting in a spool directory laid out as
 * `<dir>/<instance folder>/<10-digit sequence>.seg` (plus a `lock` file per folder), or, when
 * other users can write `dir`, the same in `<dir>/otel-pg-analytics-<euid>`, judging ownership
 * and modes as the app does for this process's user. Reads names, sizes and modes
 * only: a segment's rows belong to the process that replays them, and a missing directory just
 * means nothing was ever spooled there.
 */
export async function inspectSpool(dir: string): Promise<SpoolSummary> {
  const summary: SpoolSummary = {
    dir,
    exists: false,
    refused: [],
    instanceFolders: 0,
    pendingFolders: 0,
    segments: 0,
    bytes: 0,
  };
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return summary;
    throw error;
  }
  summary.exists = true;
  const uid = processUid();
  let spoolsIn;
  try {
    spoolsIn = await resolveSpoolDirectory(dir, uid, { create: false });
  } catch (error) {
    if (!(error instanceof UnsafeSpoolPathError)) throw error;
    summary.problem = error.refused;
    return summary;
  }
  if (spoolsIn === undefined) return summary;
  summary.spoolsIn = spoolsIn;
  if (spoolsIn !== dir) entries = await readdir(spoolsIn, { withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (isPrivateSpoolFolderName(entry.name)) continue;
    const folder = path.join(spoolsIn, entry.name);
    let files;
    try {
      const refused = await findUnsafeSpoolPath(folder, uid);
      if (refused) {
        summary.refused.push(refused);
        continue;
      }
      files = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      // Removed by a running process between the listings.
      if ((error as { code?: unknown }).code === 'ENOENT') continue;
      throw error;
    }
    summary.instanceFolders++;
    let pending = 0;
    for (const file of files) {
      if (!file.isFile() || !isSegmentName(file.name)) continue;
      try {
        summary.bytes += (await stat(path.join(folder, file.name))).size;
      } catch (error) {
        // Replayed and removed by a running process between the listing and now.
        if ((error as { code?: unknown }).code === 'ENOENT') continue;
        throw error;
      }
      pending++;
    }
    summary.segments += pending;
    if (pending > 0) summary.pendingFolders++;
  }
  return summary;
}

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** What waits in a spool directory. */
export interface SpoolSummary {
  dir: string;
  /** Whether `dir` exists (a spool dir is created by the first process that spools). */
  exists: boolean;
  /** Instance folders: one per process that used this spool dir. */
  instanceFolders: number;
  /** Instance folders holding at least one segment. */
  pendingFolders: number;
  /** Segment files (`<10-digit sequence>.seg`) waiting to be replayed. */
  segments: number;
  /** Their total size. */
  bytes: number;
}

const SEGMENT_NAME = /^\d{10}\.seg$/;

/**
 * Counts the segments waiting in a spool directory laid out as
 * `<dir>/<instance folder>/<10-digit sequence>.seg` (plus a `lock` file per folder). Reads
 * names and sizes only: a segment's rows belong to the process that replays them, and a
 * missing directory just means nothing was ever spooled there.
 */
export async function inspectSpool(dir: string): Promise<SpoolSummary> {
  const summary: SpoolSummary = {
    dir,
    exists: false,
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
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const folder = path.join(dir, entry.name);
    let files;
    try {
      files = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      // Removed by a running process between the listings.
      if ((error as { code?: unknown }).code === 'ENOENT') continue;
      throw error;
    }
    summary.instanceFolders++;
    let pending = 0;
    for (const file of files) {
      if (!file.isFile() || !SEGMENT_NAME.test(file.name)) continue;
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

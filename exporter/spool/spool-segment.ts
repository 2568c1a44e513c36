import { constants } from 'node:fs';
import { lstat, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { decodeRecords } from './spool-record.js';

/**
 * A closed segment file waiting for replay. A folder holds its own segments,
 * `<10-digit sequence>.seg`, and the folders it adopted, `adopted-<name>`.
 */
export interface SpoolSegment {
  file: string;
  bytes: number;
  /** Rows written whole into it, when this spool wrote it (unknown for an adopted one). */
  rows?: number;
  /** Its last record was cut off by a write that failed with this, and could not be cut away. */
  failedWrite?: string;
}

/** The name an adopted folder is given inside the adopting process's folder. */
export const ADOPTED_FOLDER_PREFIX = 'adopted-';

const SEGMENT_NAME = /^(\d{10})\.seg$/;

/** Whether a file name is a segment's (`<10-digit sequence>.seg`). */
export function isSegmentName(name: string): boolean {
  return SEGMENT_NAME.test(name);
}

/** The file of a folder's segment number `sequence`. */
export function segmentFile(folder: string, sequence: number): string {
  return path.join(folder, `${String(sequence).padStart(10, '0')}.seg`);
}

/**
 * The segments of a folder in replay order: those of folders it had adopted itself (older)
 * first, then its own by sequence number. Empty segments are deleted on the way.
 */
export async function listSegments(folder: string): Promise<SpoolSegment[]> {
  const names = (await readdir(folder).catch(() => [] as string[])).sort();
  const segments: SpoolSegment[] = [];
  for (const name of names) {
    if (name.startsWith(ADOPTED_FOLDER_PREFIX))
      segments.push(...(await listSegments(path.join(folder, name))));
  }
  for (const name of names) {
    if (!isSegmentName(name)) continue;
    const file = path.join(folder, name);
    const info = await lstat(file).catch(() => undefined);
    if (info && info.size > 0) segments.push({ file, bytes: info.size });
    else await unlink(file).catch(() => undefined);
  }
  return segments;
}

/**
 * The rows of an adopted segment refused when read, for the count (never replayed): read
 * through a descriptor that follows no link, at most the bytes it had when adopted; `0` when
 * it cannot be read as a file.
 */
export async function countSegmentRows(segment: SpoolSegment): Promise<number> {
  try {
    const handle = await open(segment.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (!(await handle.stat()).isFile()) return 0;
      const buffer = Buffer.alloc(segment.bytes);
      const { bytesRead } = await handle.read(buffer, 0, segment.bytes, 0);
      return decodeRecords(buffer.subarray(0, bytesRead)).entries.length;
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ANALYTICS_OPTIONS } from '../../src/config/analytics-options.js';
import type { TableRow } from '../../database/analytics-database.js';
import { judgeOrphanFolder } from './judge-orphan-folder.js';
import { reportSpoolRefusal } from './report-spool-refusal.js';
import { SegmentQueue } from './segment-queue.js';
import { SegmentWriter } from './segment-writer.js';
import { isPrivateSpoolFolderName, resolveSpoolDirectory } from './spool-directory.js';
import { writeSpoolLock } from './spool-lock.js';
import { processUid, readSpoolFile, UnsafeSpoolPathError } from './spool-path-problem.js';
import { decodeRecords, encodeRecord, type DecodedSegment } from './spool-record.js';
import { ADOPTED_FOLDER_PREFIX, countSegmentRows, listSegments } from './spool-segment.js';

/** Options of {@link Spool.open}. */
export interface SpoolOptions {
  /**
   * The spool directory; this process works in a subfolder of its own. When other users can
   * write it, the spool works in its folder `otel-pg-analytics-<euid>` (see
   * {@link resolveSpoolDirectory}).
   */
  directory: string;
  /**
   * The database the rows are for (a digest, never the password): folders left by other
   * processes are adopted only when they were spooling for the same database.
   */
  target: string;
  /** Bytes on disk, all segments together; rows beyond are refused. Defaults to 256 MiB. */
  maxBytes?: number;
  /** A segment is closed and the next begun past this size. Defaults to 4 MiB. */
  maxSegmentBytes?: number;
  /** Longest time appended records wait for an fsync. Defaults to 1000. */
  syncIntervalMillis?: number;
  /**
   * Told the rows of a segment refused when it came to be read (it changed since it was
   * written or adopted, so another user could have written it): they are never replayed, and
   * the folder they were in goes when the spool closes.
   */
  onRefusedRows?: (rows: number) => void;
}

type ResolvedSpoolOptions = Required<Omit<SpoolOptions, 'onRefusedRows'>> &
  Pick<SpoolOptions, 'onRefusedRows'>;

/** The default of {@link SpoolOptions.maxSegmentBytes}. */
export const DEFAULT_SPOOL_SEGMENT_BYTES = 4 * 1024 * 1024;
/** The default of {@link SpoolOptions.syncIntervalMillis}. */
export const DEFAULT_SPOOL_SYNC_INTERVAL_MILLIS = 1000;

/** Spool folders are the process user's alone (before the umask narrows further). */
const PRIVATE_DIRECTORY_MODE = 0o700;
/** Folders of spools open in this process (they carry this pid, but are not orphans). */
const openFolders = new Set<string>();

/** A segment waiting for replay, read whole (segments are small). */
export interface SpooledSegment extends DecodedSegment {
  /**
   * Why the segment ends in a cut-off record, when this spool knows: a write of its own that
   * failed (the error), whose rows {@link Spool.append} reported as failed then. `undefined` for
   * a tail nobody here saw cut (a crash of an earlier run).
   */
  failedWrite?: string;
  /** Deletes the segment: call once its rows are written (or counted as given up). */
  remove(): Promise<void>;
}

/** What {@link Spool.append} did with the rows it was given, each counted once. */
export interface SpoolAppendResult {
  /** Rows on disk, to be replayed. */
  written: number;
  /** The newest rows, refused because the spool holds `maxBytes`. */
  refused: number;
  /** Rows an I/O error kept off the disk (a full disk): those after the last whole record written. */
  failed: number;
  /** That error, when `failed` > 0. */
  error?: unknown;
}

/**
 * A bounded, append-only, on-disk queue of rows, for when Postgres stays unreachable: rows are
 * appended to numbered segment files in this process's own folder (marked by a lock file
 * naming the process), and read back oldest first once Postgres is back. Folders left by dead
 * processes spooling for the same database (a crash, `kill -9`) are adopted and replayed first.
 *
 * Durability: an append has reached the operating system when it resolves, so it survives the
 * process being killed; it reaches the disk (surviving a power loss) at the next fsync, at
 * most `syncIntervalMillis` later, and when a segment is closed. A record torn by a crash, or
 * damaged, is detected by its checksum and skipped (and counted); the rest is read.
 *
 * Trust: replayed rows are written as the app's own role, so the spool reads only what no
 * other user could have written. It works in a directory that is the process user's and
 * writable by no one else: the configured one, or, when other users can write that, a private
 * folder of it (else `open` throws an {@link UnsafeSpoolPathError}); a folder to adopt, its lock
 * and its segments must be the same, and none may be a symbolic link. A folder that fails is
 * left as it is, never read, and reported once (a diag warning naming it and the fix).
 */
export class Spool {
  readonly #directory: string;
  readonly #folder: string;
  readonly #target: string;
  readonly #maxBytes: number;
  readonly #onRefusedRows: ((rows: number) => void) | undefined;
  /** Closed segments, in replay order: adopted ones first, then this process's. */
  readonly #segments: SegmentQueue;
  readonly #writer: SegmentWriter;
  #queue: Promise<unknown> = Promise.resolve();
  #isClosed = false;

  private constructor(options: ResolvedSpoolOptions, folder: string) {
    this.#directory = options.directory;
    this.#folder = folder;
    this.#target = options.target;
    this.#maxBytes = options.maxBytes;
    this.#onRefusedRows = options.onRefusedRows;
    this.#segments = new SegmentQueue(folder);
    this.#writer = new SegmentWriter({
      folder,
      maxSegmentBytes: options.maxSegmentBytes,
      syncIntervalMillis: options.syncIntervalMillis,
      onClosed: (segment) => this.#segments.push(segment),
      exclusive: (fn) => this.#exclusive(fn),
    });
  }

  /** Creates this process's folder and adopts what dead processes left. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const resolved: ResolvedSpoolOptions = {
      maxBytes: ANALYTICS_OPTIONS.maxSpoolBytes.default,
      maxSegmentBytes: DEFAULT_SPOOL_SEGMENT_BYTES,
      syncIntervalMillis: DEFAULT_SPOOL_SYNC_INTERVAL_MILLIS,
      ...options,
    };
    // Rows hold user ids, addresses and paths: only this user may read them.
    const directory = (await resolveSpoolDirectory(resolved.directory, processUid(), { create: true }))!;
    const name = `${safeName(os.hostname())}-${process.pid}-${Date.now()}-${randomBytes(3).toString('hex')}`;
    const folder = path.join(directory, name);
    await mkdir(folder, { mode: PRIVATE_DIRECTORY_MODE });
    await writeSpoolLock(folder, resolved.target);
    openFolders.add(folder);
    const spool = new Spool({ ...resolved, directory }, folder);
    await spool.adoptOrphans();
    return spool;
  }

  /** Bytes waiting on disk. */
  get bytes(): number {
    return this.#segments.bytes + this.#writer.bytes;
  }

  /** This process's folder. */
  get folder(): string {
    return this.#folder;
  }

  /**
   * Appends rows, oldest first; those that would take the spool past `maxBytes` are refused
   * (the newest: what is already spooled is kept). On an I/O error (a full disk) the rows whose
   * records reached the file whole stay spooled, and the rest are reported as failed; the part
   * of a record the error cut off is cut away again, so no torn record is left to replay. The
   * next append starts a new segment. Never rejects for an I/O error.
   */
  append(entries: readonly TableRow[]): Promise<SpoolAppendResult> {
    return this.#exclusive(async () => {
      if (this.#isClosed) return { written: 0, refused: entries.length, failed: 0 };
      const records: Buffer[] = [];
      let size = 0;
      for (const entry of entries) {
        const record = encodeRecord(entry);
        if (this.bytes + size + record.length > this.#maxBytes) break;
        records.push(record);
        size += record.length;
      }
      const refused = entries.length - records.length;
      if (records.length === 0) return { written: 0, refused, failed: 0 };
      const { written, failed, ...error } = await this.#writer.write(records, size);
      return { written, refused, failed, ...error };
    });
  }

  /** Whether anything waits for replay. */
  hasPending(): boolean {
    return this.#segments.length > 0 || this.#writer.bytes > 0;
  }

  /**
   * The oldest segment waiting for replay (closing the one being written if it is the only
   * one), or `undefined` when the spool is empty.
   */
  nextSegment(): Promise<SpooledSegment | undefined> {
    return this.#exclusive(async () => {
      if (this.#segments.length === 0 && this.#writer.bytes > 0) await this.#writer.close();
      for (;;) {
        const segment = this.#segments.first;
        if (!segment) return undefined;
        let decoded: DecodedSegment;
        try {
          decoded = decodeRecords(await readSpoolFile(segment.file, processUid()));
        } catch (error) {
          if (error instanceof UnsafeSpoolPathError) {
            // Changed since it was written or adopted: left out of the replay, its rows lost.
            this.#segments.shift();
            reportSpoolRefusal(path.dirname(segment.file), error.refused);
            this.#onRefusedRows?.(segment.rows ?? (await countSegmentRows(segment)));
            continue;
          }
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          decoded = { entries: [], corrupt: 0, truncated: false };
        }
        return {
          ...decoded,
          ...(decoded.truncated && segment.failedWrite !== undefined && { failedWrite: segment.failedWrite }),
          remove: () => this.#exclusive(() => this.#segments.remove(segment)),
        };
      }
    });
  }

  /**
   * Adopts the folders of dead processes that spooled for the same database: moved into this
   * process's folder (a rename, so two processes never adopt the same one) and queued for
   * replay before this process's own segments. A folder (or anything in it) another user could
   * have written is refused: left where it is, unread, and reported once. Returns the number of
   * folders adopted.
   */
  adoptOrphans(): Promise<number> {
    return this.#exclusive(async () => {
      let adopted = 0;
      let entries;
      try {
        entries = await readdir(this.#directory, { withFileTypes: true });
      } catch {
        return 0;
      }
      const uid = processUid();
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        // Plain files are never read; folders, and links that would stand for one, are.
        if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
        // A user's private spool (this directory is shared with other users' processes).
        if (isPrivateSpoolFolderName(entry.name)) continue;
        const folder = path.join(this.#directory, entry.name);
        if (folder === this.#folder) continue;
        // Another spool open in this process: it carries this pid, but is not an orphan.
        if (openFolders.has(folder)) continue;
        let verdict;
        try {
          verdict = await judgeOrphanFolder(folder, this.#target, uid);
        } catch {
          continue; // Removed, or adopted, by another process meanwhile.
        }
        if (typeof verdict === 'object') reportSpoolRefusal(folder, verdict);
        if (verdict !== 'orphan') continue;
        const destination = path.join(this.#folder, `${ADOPTED_FOLDER_PREFIX}${entry.name}`);
        try {
          await rename(folder, destination);
        } catch {
          continue; // Another process adopted it first.
        }
        adopted++;
        this.#segments.addAdopted(await listSegments(destination));
      }
      return adopted;
    });
  }

  /**
   * Flushes to disk and closes. The folder is removed when nothing is left in it; otherwise it
   * stays, for the next process to adopt.
   */
  close(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#isClosed) return;
      this.#isClosed = true;
      try {
        await this.#writer.close();
        if (this.#segments.length === 0) await rm(this.#folder, { recursive: true, force: true });
      } finally {
        openFolders.delete(this.#folder);
      }
    });
  }

  /** Runs `fn` after every operation queued before it: one file operation at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
}

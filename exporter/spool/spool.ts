import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ANALYTICS_OPTIONS } from '../../src/config/analytics-options.js';
import { createLogger, describeError } from '../../src/support/diag.js';
import type { TableRow } from '../../database/analytics-database.js';
import { isPrivateSpoolFolderName, resolveSpoolDirectory } from './spool-directory.js';
import {
  findUnsafeSpoolPath,
  processUid,
  readSpoolFile,
  spoolPathProblem,
  UnsafeSpoolPathError,
  type RefusedSpoolPath,
} from './spool-path-problem.js';
import { decodeRecords, encodeRecord, type DecodedSegment } from './spool-record.js';

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

export const DEFAULT_SPOOL_SEGMENT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SPOOL_SYNC_INTERVAL_MILLIS = 1000;

/** Spool folders and files are the process user's alone (before the umask narrows further). */
const PRIVATE_DIRECTORY_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
/** A new segment: never an existing file, never through a symbolic link. */
const NEW_SEGMENT_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND | constants.O_NOFOLLOW;
/** Folders of processes that died without a lock file are adopted once this old. */
const UNLOCKED_FOLDER_GRACE_MILLIS = 60_000;
const LOCK_FILE = 'lock';
const SEGMENT = /^(\d{10})\.seg$/;
const ADOPTED_PREFIX = 'adopted-';

/** Folders of spools open in this process (they carry this pid, but are not orphans). */
const openFolders = new Set<string>();
/** Folders refused already: each is reported once per process, however often it is met. */
const reportedRefusals = new Set<string>();
const logger = createLogger('spool');

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

interface Lock {
  pid: number;
  host: string;
  target: string;
  startedAt: string;
}

interface Segment {
  file: string;
  bytes: number;
  /** Rows written whole into it, when this spool wrote it (unknown for an adopted one). */
  rows?: number;
  /** Its last record was cut off by a write that failed with this, and could not be cut away. */
  failedWrite?: string;
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
  readonly #maxSegmentBytes: number;
  readonly #syncIntervalMillis: number;
  readonly #onRefusedRows: ((rows: number) => void) | undefined;
  /** Closed segments, in replay order: adopted ones first, then this process's. */
  readonly #closed: Segment[] = [];
  #current: (Segment & { handle: FileHandle }) | undefined;
  #sequence = 0;
  #bytes = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #syncTimer: NodeJS.Timeout | undefined;
  #isClosed = false;

  private constructor(options: ResolvedSpoolOptions, folder: string) {
    this.#directory = options.directory;
    this.#folder = folder;
    this.#target = options.target;
    this.#maxBytes = options.maxBytes;
    this.#maxSegmentBytes = options.maxSegmentBytes;
    this.#syncIntervalMillis = options.syncIntervalMillis;
    this.#onRefusedRows = options.onRefusedRows;
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
    const lock: Lock = {
      pid: process.pid,
      host: os.hostname(),
      target: resolved.target,
      startedAt: new Date().toISOString(),
    };
    await writeFile(path.join(folder, LOCK_FILE), JSON.stringify(lock), {
      mode: PRIVATE_FILE_MODE,
      flag: 'wx',
    });
    openFolders.add(folder);
    const spool = new Spool({ ...resolved, directory }, folder);
    await spool.adoptOrphans();
    return spool;
  }

  /** Bytes waiting on disk. */
  get bytes(): number {
    return this.#bytes;
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
        if (this.#bytes + size + record.length > this.#maxBytes) break;
        records.push(record);
        size += record.length;
      }
      const refused = entries.length - records.length;
      if (records.length === 0) return { written: 0, refused, failed: 0 };
      let current;
      try {
        current = this.#current ?? (await this.#startSegment());
      } catch (error) {
        return { written: 0, refused, failed: records.length, error };
      }
      const data = records.length === 1 ? records[0]! : Buffer.concat(records, size);
      let done = 0;
      try {
        while (done < data.length) {
          const { bytesWritten } = await current.handle.write(data, done, data.length - done);
          done += bytesWritten;
        }
      } catch (error) {
        const written = await this.#keepWholeRecords(current, records, done, error);
        return { written, refused, failed: records.length - written, error };
      }
      current.bytes += data.length;
      current.rows = (current.rows ?? 0) + records.length;
      this.#bytes += data.length;
      if (current.bytes >= this.#maxSegmentBytes) await this.#closeSegment();
      else this.#scheduleSync();
      return { written: records.length, refused, failed: 0 };
    });
  }

  /** Whether anything waits for replay. */
  hasPending(): boolean {
    return this.#closed.length > 0 || (this.#current?.bytes ?? 0) > 0;
  }

  /**
   * The oldest segment waiting for replay (closing the one being written if it is the only
   * one), or `undefined` when the spool is empty.
   */
  nextSegment(): Promise<SpooledSegment | undefined> {
    return this.#exclusive(async () => {
      if (this.#closed.length === 0 && (this.#current?.bytes ?? 0) > 0) await this.#closeSegment();
      for (;;) {
        const segment = this.#closed[0];
        if (!segment) return undefined;
        let decoded: DecodedSegment;
        try {
          decoded = decodeRecords(await readSpoolFile(segment.file, processUid()));
        } catch (error) {
          if (error instanceof UnsafeSpoolPathError) {
            // Changed since it was written or adopted: left out of the replay, its rows lost.
            this.#closed.shift();
            this.#bytes -= segment.bytes;
            reportRefusal(path.dirname(segment.file), error.refused);
            this.#onRefusedRows?.(segment.rows ?? (await countRows(segment)));
            continue;
          }
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          decoded = { entries: [], corrupt: 0, truncated: false };
        }
        return {
          ...decoded,
          ...(decoded.truncated && segment.failedWrite !== undefined && { failedWrite: segment.failedWrite }),
          remove: () => this.#exclusive(() => this.#removeSegment(segment)),
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
        let verdict: 'orphan' | 'not-orphan' | RefusedSpoolPath;
        try {
          verdict = await this.#inspect(folder, uid);
          if (verdict === 'orphan') verdict = (await findUnsafeSpoolPath(folder, uid)) ?? 'orphan';
        } catch {
          continue; // Removed, or adopted, by another process meanwhile.
        }
        if (typeof verdict === 'object') reportRefusal(folder, verdict);
        if (verdict !== 'orphan') continue;
        const destination = path.join(this.#folder, `${ADOPTED_PREFIX}${entry.name}`);
        try {
          await rename(folder, destination);
        } catch {
          continue; // Another process adopted it first.
        }
        adopted++;
        const segments = await listSegments(destination);
        this.#closed.splice(this.#adoptedCount(), 0, ...segments);
        for (const segment of segments) this.#bytes += segment.bytes;
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
        await this.#closeSegment();
        if (this.#closed.length === 0) await rm(this.#folder, { recursive: true, force: true });
      } finally {
        openFolders.delete(this.#folder);
      }
    });
  }

  /**
   * Whether `folder` is an orphan to adopt, judged by its lock (read only from a folder and a
   * lock file no other user could have written), or what makes it untrustworthy.
   */
  async #inspect(
    folder: string,
    uid: number | undefined,
  ): Promise<'orphan' | 'not-orphan' | RefusedSpoolPath> {
    if (openFolders.has(folder)) return 'not-orphan';
    const info: Stats = await lstat(folder);
    const problem = spoolPathProblem(info, 'directory', uid);
    if (problem !== undefined) return { path: folder, problem };
    let lock: Partial<Lock>;
    try {
      lock = JSON.parse(
        (await readSpoolFile(path.join(folder, LOCK_FILE), uid)).toString('utf8'),
      ) as Partial<Lock>;
    } catch (error) {
      if (error instanceof UnsafeSpoolPathError) return error.refused;
      // No readable lock: a folder being created right now, or a process that died creating it.
      return Date.now() - info.mtimeMs > UNLOCKED_FOLDER_GRACE_MILLIS ? 'orphan' : 'not-orphan';
    }
    if (lock.target !== this.#target) return 'not-orphan';
    // Another host's process cannot be checked: its folder is left to that host.
    if (lock.host !== os.hostname() || typeof lock.pid !== 'number') return 'not-orphan';
    // Our own pid on a folder that is not ours: an earlier run of this process (a container
    // restarted with the same pid).
    return lock.pid === process.pid || !isAlive(lock.pid) ? 'orphan' : 'not-orphan';
  }

  #adoptedCount(): number {
    let count = 0;
    for (const segment of this.#closed) {
      if (path.relative(this.#folder, segment.file).startsWith(ADOPTED_PREFIX)) count++;
    }
    return count;
  }

  /**
   * After a write that failed with `done` bytes of `records` written: keeps the records written
   * whole, cuts the file back to their end (shrinking needs no space, so this works on a full
   * disk), and closes the segment. Returns how many records were kept.
   */
  async #keepWholeRecords(
    current: Segment & { handle: FileHandle },
    records: readonly Buffer[],
    done: number,
    error: unknown,
  ): Promise<number> {
    let kept = 0;
    let keptBytes = 0;
    while (kept < records.length && keptBytes + records[kept]!.length <= done)
      keptBytes += records[kept++]!.length;
    let onDisk = keptBytes;
    if (done > keptBytes) {
      try {
        await current.handle.truncate(current.bytes + keptBytes);
      } catch {
        // The cut-off record stays; the replay skips it, knowing why (its row is counted now).
        onDisk = done;
        current.failedWrite = describeError(error);
      }
    }
    current.bytes += onDisk;
    current.rows = (current.rows ?? 0) + kept;
    this.#bytes += onDisk;
    await this.#closeSegment().catch(() => undefined);
    return kept;
  }

  async #startSegment(): Promise<Segment & { handle: FileHandle }> {
    this.#sequence++;
    const file = path.join(this.#folder, `${String(this.#sequence).padStart(10, '0')}.seg`);
    const handle = await open(file, NEW_SEGMENT_FLAGS, PRIVATE_FILE_MODE);
    this.#current = { handle, file, bytes: 0, rows: 0 };
    return this.#current;
  }

  async #closeSegment(): Promise<void> {
    const current = this.#current;
    if (!current) return;
    this.#current = undefined;
    this.#clearSync();
    // Queued for replay even if the fsync fails: its records reached the operating system.
    const { handle, ...segment } = current;
    if (segment.bytes > 0) this.#closed.push(segment);
    try {
      await handle.datasync();
    } finally {
      await handle.close();
      if (segment.bytes === 0) await unlink(segment.file).catch(() => undefined);
    }
  }

  async #removeSegment(segment: Segment): Promise<void> {
    const index = this.#closed.indexOf(segment);
    if (index === -1) return;
    this.#closed.splice(index, 1);
    this.#bytes -= segment.bytes;
    await unlink(segment.file).catch(() => undefined);
    // An adopted folder whose last segment is gone is removed with its lock.
    const folder = path.dirname(segment.file);
    if (folder === this.#folder) return;
    const adopted = path.join(this.#folder, path.relative(this.#folder, folder).split(path.sep)[0]!);
    if (!this.#closed.some((s) => s.file.startsWith(adopted + path.sep))) {
      await rm(adopted, { recursive: true, force: true });
    }
  }

  #scheduleSync(): void {
    if (this.#syncTimer) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      void this.#exclusive(async () => {
        await this.#current?.handle.datasync();
      }).catch(() => undefined);
    }, this.#syncIntervalMillis);
    this.#syncTimer.unref();
  }

  #clearSync(): void {
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
  }

  /** Runs `fn` after every operation queued before it: one file operation at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/**
 * The rows of an adopted segment refused when read, for the count (never replayed): read
 * through a descriptor that follows no link, at most the bytes it had when adopted; `0` when
 * it cannot be read as a file.
 */
async function countRows(segment: Segment): Promise<number> {
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

/**
 * The segments of a folder in replay order: those of folders it had adopted itself (older)
 * first, then its own by sequence number.
 */
async function listSegments(folder: string): Promise<Segment[]> {
  const names = (await readdir(folder).catch(() => [] as string[])).sort();
  const segments: Segment[] = [];
  for (const name of names) {
    if (name.startsWith(ADOPTED_PREFIX)) segments.push(...(await listSegments(path.join(folder, name))));
  }
  for (const name of names) {
    if (!SEGMENT.test(name)) continue;
    const file = path.join(folder, name);
    const info = await lstat(file).catch(() => undefined);
    if (info && info.size > 0) segments.push({ file, bytes: info.size });
    else await unlink(file).catch(() => undefined);
  }
  return segments;
}

/** Says, once per process, that a folder is not replayed and why. */
function reportRefusal(folder: string, refused: RefusedSpoolPath): void {
  if (reportedRefusals.has(folder)) return;
  reportedRefusals.add(folder);
  logger.warn(
    `not replaying the spool folder ${folder}: ${refused.path} ${refused.problem}, so another user could ` +
      `have written its rows, which are never read; remove it if it is not this user's, or, if it is, make ` +
      `it this user's alone (chown, chmod go-w) and restart to have it replayed`,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
}

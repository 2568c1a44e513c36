import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { describeError } from '../../src/support/diag.js';
import { segmentFile, type SpoolSegment } from './spool-segment.js';

/** Spool files are the process user's alone (before the umask narrows further). */
const PRIVATE_FILE_MODE = 0o600;
/** A new segment: never an existing file, never through a symbolic link. */
const NEW_SEGMENT_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND | constants.O_NOFOLLOW;

/** Options of a {@link SegmentWriter}. */
export interface SegmentWriterOptions {
  /** The spool's own folder, where its segments are numbered from 1. */
  folder: string;
  /** A segment is closed and the next begun past this size. */
  maxSegmentBytes: number;
  /** Longest time written records wait for an fsync. */
  syncIntervalMillis: number;
  /** Told each segment closed with records in it, ready for replay. */
  onClosed: (segment: SpoolSegment) => void;
  /** Runs a file operation after those queued before it (the spool's own queue). */
  exclusive: (fn: () => Promise<void>) => Promise<void>;
}

/** What {@link SegmentWriter.write} did with the records it was given. */
export interface SegmentWriteResult {
  /** Records on disk whole. */
  written: number;
  /** Records an I/O error kept off the disk. */
  failed: number;
  /** That error, when `failed` > 0. */
  error?: unknown;
}

type OpenSegment = SpoolSegment & { handle: FileHandle };

/**
 * Writes records to the segment being filled, begins the next past `maxSegmentBytes`, and
 * fsyncs at most `syncIntervalMillis` after a write and when a segment is closed. Its caller
 * runs one operation at a time.
 */
export class SegmentWriter {
  readonly #options: SegmentWriterOptions;
  #current: OpenSegment | undefined;
  #sequence = 0;
  #syncTimer: NodeJS.Timeout | undefined;

  constructor(options: SegmentWriterOptions) {
    this.#options = options;
  }

  /** Bytes in the segment being filled. */
  get bytes(): number {
    return this.#current?.bytes ?? 0;
  }

  /**
   * Appends whole records (`size` bytes together). On an I/O error the records that reached
   * the file whole are kept, the part of a record the error cut off is cut away again, and the
   * segment is closed, so the next write starts a new one. Rejects only when closing a full
   * segment fails.
   */
  async write(records: readonly Buffer[], size: number): Promise<SegmentWriteResult> {
    let current;
    try {
      current = this.#current ?? (await this.#startSegment());
    } catch (error) {
      return { written: 0, failed: records.length, error };
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
      return { written, failed: records.length - written, error };
    }
    current.bytes += data.length;
    current.rows = (current.rows ?? 0) + records.length;
    if (current.bytes >= this.#options.maxSegmentBytes) await this.close();
    else this.#scheduleSync();
    return { written: records.length, failed: 0 };
  }

  /**
   * Closes the segment being filled: queued for replay (even if the fsync fails: its records
   * reached the operating system), or deleted when empty.
   */
  async close(): Promise<void> {
    const current = this.#current;
    if (!current) return;
    this.#current = undefined;
    this.#clearSync();
    const { handle, ...segment } = current;
    if (segment.bytes > 0) this.#options.onClosed(segment);
    try {
      await handle.datasync();
    } finally {
      await handle.close();
      if (segment.bytes === 0) await unlink(segment.file).catch(() => undefined);
    }
  }

  /**
   * After a write that failed with `done` bytes of `records` written: keeps the records written
   * whole, cuts the file back to their end (shrinking needs no space, so this works on a full
   * disk), and closes the segment. Returns how many records were kept.
   */
  async #keepWholeRecords(
    current: OpenSegment,
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
    await this.close().catch(() => undefined);
    return kept;
  }

  async #startSegment(): Promise<OpenSegment> {
    this.#sequence++;
    const file = segmentFile(this.#options.folder, this.#sequence);
    const handle = await open(file, NEW_SEGMENT_FLAGS, PRIVATE_FILE_MODE);
    this.#current = { handle, file, bytes: 0, rows: 0 };
    return this.#current;
  }

  #scheduleSync(): void {
    if (this.#syncTimer) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      void this.#options
        .exclusive(async () => {
          await this.#current?.handle.datasync();
        })
        .catch(() => undefined);
    }, this.#options.syncIntervalMillis);
    this.#syncTimer.unref();
  }

  #clearSync(): void {
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
  }
}

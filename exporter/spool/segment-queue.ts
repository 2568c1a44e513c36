import { rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ADOPTED_FOLDER_PREFIX, type SpoolSegment } from './spool-segment.js';

/**
 * The closed segments of a spool in replay order (adopted ones first, then the spool's own),
 * and the bytes they hold on disk, counted against the spool's budget until removed.
 */
export class SegmentQueue {
  readonly #folder: string;
  readonly #segments: SpoolSegment[] = [];
  #bytes = 0;

  /** `folder` is the spool's own folder, into which adopted folders are moved. */
  constructor(folder: string) {
    this.#folder = folder;
  }

  /** Bytes of the queued segments. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Segments queued. */
  get length(): number {
    return this.#segments.length;
  }

  /** The oldest segment, next to replay. */
  get first(): SpoolSegment | undefined {
    return this.#segments[0];
  }

  /** Queues a segment the spool closed, after every other. */
  push(segment: SpoolSegment): void {
    this.#segments.push(segment);
    this.#bytes += segment.bytes;
  }

  /** Queues the segments of a folder just adopted: after those adopted before, before the spool's own. */
  addAdopted(segments: readonly SpoolSegment[]): void {
    this.#segments.splice(this.#adoptedCount(), 0, ...segments);
    for (const segment of segments) this.#bytes += segment.bytes;
  }

  /** Takes the oldest segment off the queue, leaving its file where it is (it is not to be read). */
  shift(): SpoolSegment | undefined {
    const segment = this.#segments.shift();
    if (segment) this.#bytes -= segment.bytes;
    return segment;
  }

  /**
   * Deletes a segment (once its rows are written or given up); an adopted folder whose last
   * segment is gone is removed with its lock. Does nothing for a segment no longer queued.
   */
  async remove(segment: SpoolSegment): Promise<void> {
    const index = this.#segments.indexOf(segment);
    if (index === -1) return;
    this.#segments.splice(index, 1);
    this.#bytes -= segment.bytes;
    await unlink(segment.file).catch(() => undefined);
    const folder = path.dirname(segment.file);
    if (folder === this.#folder) return;
    const adopted = path.join(this.#folder, path.relative(this.#folder, folder).split(path.sep)[0]!);
    if (!this.#segments.some((s) => s.file.startsWith(adopted + path.sep))) {
      await rm(adopted, { recursive: true, force: true });
    }
  }

  #adoptedCount(): number {
    let count = 0;
    for (const segment of this.#segments) {
      if (path.relative(this.#folder, segment.file).startsWith(ADOPTED_FOLDER_PREFIX)) count++;
    }
    return count;
  }
}

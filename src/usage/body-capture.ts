import zlib from 'node:zlib';
import { extractUsage } from './extract-usage.js';
import { RecordCounter } from './record-counter.js';
import type { CaptureKind, RecordsResult, UsageResult } from './token-usage.js';

/** Bytes of an uncompressed body kept from its start (where streams name the model). */
export const CAPTURE_HEAD_BYTES = 16 * 1024;
/** Bytes kept from its end (where usage is reported). */
export const CAPTURE_TAIL_BYTES = 256 * 1024;
/** A compressed body is kept whole to be decoded at its end, up to this size. */
export const MAX_CAPTURED_COMPRESSED_BYTES = 4 * 1024 * 1024;
/** Decoded output is not expanded beyond this (a decompression bomb stops here). */
const MAX_DECODED_BYTES = 32 * 1024 * 1024;
/** All bodies being captured at once hold at most this much; more calls are not read. */
export const MAX_CAPTURE_BUDGET_BYTES = 64 * 1024 * 1024;

let budgetInUse = 0;

/** Bytes one capture holds against the budget; kept apart so they can be returned after GC. */
interface Ledger {
  bytes: number;
}

/**
 * A capture dropped without being finished (a response the app never read, a request whose
 * end went unseen) returns its bytes to the budget when it is collected, so the budget cannot
 * drain away over a long-running process.
 */
const unfinished = new FinalizationRegistry<Ledger>((ledger) => {
  budgetInUse -= ledger.bytes;
  ledger.bytes = 0;
});

/** Bytes all captures hold now (for tests and diagnostics). */
export function captureBytesInUse(): number {
  return budgetInUse;
}

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

/**
 * A copy of the bytes of one LLM response as they pass by, kept within bounds: the app gets
 * exactly what it would have got, and this never delays or changes it. Uncompressed bodies
 * keep a head and a tail window; compressed ones are kept whole (up to a cap) and decoded
 * once, when the body ends, synchronously, so usage is on the span before it ends. Dataset
 * downloads (`records`) are counted as they pass instead, in constant memory.
 */
export class BodyCapture {
  readonly #kind: CaptureKind;
  #counter: RecordCounter | undefined;
  #encoding = 'identity';
  #chunks: Buffer[] = [];
  /** Bytes in `#chunks`. */
  #held = 0;
  #head: Buffer | undefined;
  readonly #ledger: Ledger = { bytes: 0 };
  #total = 0;
  #giveUp: string | undefined;
  #result: UsageResult | RecordsResult | undefined;

  constructor(kind: CaptureKind) {
    this.#kind = kind;
    this.#counter = kind.kind === 'records' ? new RecordCounter() : undefined;
    unfinished.register(this, this.#ledger, this);
  }

  /** A free operation's body need not be kept: its answer does not depend on it. */
  get #free(): boolean {
    return this.#kind.kind === 'usage' && this.#kind.endpoint.free === true;
  }

  /** Total body bytes seen on the wire. */
  get bytes(): number {
    return this.#total;
  }

  /** The response's `Content-Encoding` (`gzip`, `br`, `deflate`, `zstd`, or none). */
  setEncoding(encoding: string | undefined): void {
    const value = (encoding ?? 'identity').trim().toLowerCase();
    this.#encoding = value === '' ? 'identity' : value;
    if (this.#encoding !== 'identity' && !DECODERS[this.#encoding]) this.#stop('unsupported_encoding');
  }

  /** The response's `Content-Type`: NDJSON downloads are counted by lines. */
  setContentType(contentType: string | undefined): void {
    if (!this.#counter || this.#total > 0) return;
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    this.#counter = new RecordCounter({ lines: NDJSON_TYPES.has(type) });
  }

  /** A chunk of the body as it arrived; copied, never kept by reference to the app's buffer. */
  push(chunk: Uint8Array): void {
    this.#total += chunk.byteLength;
    if (this.#giveUp !== undefined || this.#result !== undefined || this.#free) return;
    if (this.#encoding !== 'identity') {
      if (this.#held + chunk.byteLength > MAX_CAPTURED_COMPRESSED_BYTES) return this.#stop('body_too_large');
      this.#keep(chunk);
      return;
    }
    if (this.#counter) {
      this.#counter.push(chunk);
      return;
    }
    this.#keep(chunk);
    // Past head + tail, drop from the front what no window needs.
    if (this.#head === undefined && this.#held > CAPTURE_HEAD_BYTES + CAPTURE_TAIL_BYTES) {
      const all = Buffer.concat(this.#chunks);
      this.#head = Buffer.from(all.subarray(0, CAPTURE_HEAD_BYTES));
      this.#charge(this.#head.length);
      this.#dropChunks();
      this.#keep(all.subarray(all.length - CAPTURE_TAIL_BYTES));
    } else if (this.#head !== undefined) {
      while (this.#chunks.length > 1 && this.#held - this.#chunks[0]!.length >= CAPTURE_TAIL_BYTES) {
        const dropped = this.#chunks.shift()!;
        this.#held -= dropped.length;
        this.#charge(-dropped.length);
      }
    }
  }

  /**
   * The body ended (or broke off, with `incomplete`): decode what was kept and read the usage.
   * Runs once; the kept bytes are released.
   */
  finish(incomplete = false): UsageResult | RecordsResult {
    if (this.#result) return this.#result;
    let result: UsageResult | RecordsResult;
    if (this.#free && this.#kind.kind === 'usage') {
      result = extractUsage(this.#kind.endpoint, '');
    } else if (this.#giveUp !== undefined) {
      result = { reason: this.#giveUp };
    } else if (this.#total === 0) {
      result = { reason: 'body_not_observed' };
    } else if (this.#counter) {
      result = this.#countRecords(this.#counter, incomplete);
    } else {
      const text = this.#text();
      result =
        typeof text === 'string' && this.#kind.kind === 'usage'
          ? extractUsage(this.#kind.endpoint, text)
          : { reason: typeof text === 'string' ? 'unsupported_provider' : text.reason };
    }
    if ('usage' in result && incomplete) result = { usage: { ...result.usage, incomplete: true } };
    this.#release();
    unfinished.unregister(this);
    this.#result = result;
    return result;
  }

  #countRecords(counter: RecordCounter, incomplete: boolean): RecordsResult {
    if (incomplete) return { reason: 'download_incomplete' };
    if (this.#encoding !== 'identity') {
      try {
        counter.push(DECODERS[this.#encoding]!(Buffer.concat(this.#chunks)));
      } catch {
        return { reason: 'undecodable_body' };
      }
    }
    const records = counter.result();
    return records === undefined ? { reason: 'records_not_countable' } : { records };
  }

  #text(): string | { reason: string } {
    const kept = Buffer.concat(this.#chunks);
    if (this.#encoding === 'identity') {
      return this.#head ? `${this.#head.toString('utf8')}\n${kept.toString('utf8')}` : kept.toString('utf8');
    }
    try {
      const decoded = DECODERS[this.#encoding]!(kept);
      if (decoded.length <= CAPTURE_HEAD_BYTES + CAPTURE_TAIL_BYTES) return decoded.toString('utf8');
      return `${decoded.subarray(0, CAPTURE_HEAD_BYTES).toString('utf8')}\n${decoded
        .subarray(decoded.length - CAPTURE_TAIL_BYTES)
        .toString('utf8')}`;
    } catch {
      return { reason: 'undecodable_body' };
    }
  }

  #keep(chunk: Uint8Array): void {
    if (budgetInUse + chunk.byteLength > MAX_CAPTURE_BUDGET_BYTES) return this.#stop('capture_budget');
    this.#chunks.push(Buffer.from(chunk));
    this.#held += chunk.byteLength;
    this.#charge(chunk.byteLength);
  }

  #stop(reason: string): void {
    this.#giveUp = reason;
    this.#release();
  }

  /** Counts `bytes` (negative: returns them) against this capture and the shared budget. */
  #charge(bytes: number): void {
    this.#ledger.bytes += bytes;
    budgetInUse += bytes;
  }

  #dropChunks(): void {
    this.#charge(-this.#held);
    this.#held = 0;
    this.#chunks = [];
  }

  /** Returns every byte held to the budget. */
  #release(): void {
    this.#dropChunks();
    if (this.#head) this.#charge(-this.#head.length);
    this.#head = undefined;
  }
}

/**
 * Decoders for a possibly cut-off stream: a flush instead of a finish, so a body that broke off
 * still decodes as far as it got.
 */
const gunzip = (input: Buffer): Buffer =>
  zlib.gunzipSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_BYTES });

const DECODERS: Record<string, ((input: Buffer) => Buffer) | undefined> = {
  gzip: gunzip,
  'x-gzip': gunzip,
  deflate: (input) => {
    // "deflate" is zlib-wrapped by the spec, raw in practice from some servers.
    try {
      return zlib.inflateSync(input, {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_DECODED_BYTES,
      });
    } catch {
      return zlib.inflateRawSync(input, {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_DECODED_BYTES,
      });
    }
  },
  br: (input) =>
    zlib.brotliDecompressSync(input, {
      finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      maxOutputLength: MAX_DECODED_BYTES,
    }),
  ...('zstdDecompressSync' in zlib && {
    zstd: (input: Buffer) =>
      (zlib as unknown as { zstdDecompressSync: (b: Buffer, o: object) => Buffer }).zstdDecompressSync(
        input,
        {
          maxOutputLength: MAX_DECODED_BYTES,
        },
      ),
  }),
};

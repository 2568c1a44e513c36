import type { IncomingMessage } from 'node:http';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate, createZstdDecompress } from 'node:zlib';
import {
  GRPC_DEADLINE_EXCEEDED,
  GRPC_INVALID_ARGUMENT,
  GRPC_RESOURCE_EXHAUSTED,
  GRPC_UNAVAILABLE,
  GRPC_UNIMPLEMENTED,
  IngestRequestError,
} from './ingest-request-error.js';
import type { InFlightReservation } from './in-flight-budget.js';

/** The `Content-Encoding`s accepted: the Collector's otlphttp compressions but snappy and lz4. */
const DECOMPRESSORS: Readonly<Record<string, (() => Transform) | null>> = {
  identity: null,
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  zstd: createZstdDecompress,
};

/** How {@link readRequestBody} reads. */
export interface ReadRequestBodyOptions {
  /** Largest body, compressed and decompressed; beyond it 413. */
  maxBytes: number;
  /** Longest wait for the body's next bytes, from the headers on; beyond it 408. */
  idleTimeoutMillis: number;
}

/**
 * Reads a request body, decompressed, refusing more than `maxBytes` before or after
 * decompression (413): a declared `Content-Length` beyond it is refused before anything is
 * read, and reading stops as soon as either count passes it, so a small compressed body that
 * inflates without end (a zip bomb) costs at most `maxBytes` of memory.
 *
 * The bytes are held against `reservation` (see `InFlightBudget`) as they arrive, and
 * decompressed bytes as they are produced: a sender holds only what it has sent. A declared
 * length the budget has no room for now is refused before anything is read; when arriving
 * bytes would pass the budget, likewise: 503 (the sender retries later). On a refusal the rest
 * of the body is discarded as it arrives (the caller bounds how much and how long), so the
 * connection stays usable and the sender sees the status.
 *
 * A body that stops arriving for `idleTimeoutMillis` is refused (408) and what it holds given
 * back: a sender that stalls keeps neither the bytes it sent nor its connection for long (the
 * server's request timeout alone takes 30 to 60 s).
 */
export async function readRequestBody(
  request: IncomingMessage,
  reservation: InFlightReservation,
  { maxBytes, idleTimeoutMillis }: ReadRequestBodyOptions,
): Promise<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? '').trim().toLowerCase() || 'identity';
  const decompressor = DECOMPRESSORS[encoding];
  if (decompressor === undefined) {
    throw new IngestRequestError(
      415,
      GRPC_UNIMPLEMENTED,
      `unsupported Content-Encoding ${JSON.stringify(encoding)}`,
    );
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    throw tooLarge(maxBytes);
  }
  if (Number.isFinite(declared) && !reservation.admit(declared)) {
    request.resume();
    throw busy();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      idle.refresh();
      received += chunk.length;
      if (received > maxBytes) return callback(tooLarge(maxBytes));
      callback(reservation.growTo(received) ? null : busy(), chunk);
    },
    flush(callback) {
      // All of it arrived: what remains (decompressing) is ours to do, not the sender's.
      clearTimeout(idle);
      callback();
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) return callback(tooLarge(maxBytes));
      if (!reservation.growTo(size)) return callback(busy());
      chunks.push(chunk);
      callback();
    },
  });
  const idle = setTimeout(() => counter.destroy(stalled(idleTimeoutMillis)), idleTimeoutMillis).unref();
  // The request stays out of the pipeline: a failure must not destroy it (and its socket)
  // before the response is sent.
  const onClose = (): void => {
    if (!request.complete) counter.destroy(new Error('the request was aborted'));
  };
  request.once('close', onClose);
  request.once('error', (error) => counter.destroy(error));
  request.pipe(counter);
  try {
    await (decompressor ? pipeline(counter, decompressor(), sink) : pipeline(counter, sink));
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  } catch (error) {
    request.unpipe(counter);
    request.resume();
    if (error instanceof IngestRequestError) throw error;
    throw new IngestRequestError(400, GRPC_INVALID_ARGUMENT, `the ${encoding} body could not be read`, {
      cause: error,
    });
  } finally {
    clearTimeout(idle);
    request.off('close', onClose);
  }
}

function busy(): IngestRequestError {
  return new IngestRequestError(
    503,
    GRPC_UNAVAILABLE,
    'too many bytes of other exports are being read: retry later',
  );
}

function stalled(idleTimeoutMillis: number): IngestRequestError {
  return new IngestRequestError(
    408,
    GRPC_DEADLINE_EXCEEDED,
    `no bytes of the body arrived for ${idleTimeoutMillis} ms`,
  );
}

function tooLarge(maxBytes: number): IngestRequestError {
  return new IngestRequestError(413, GRPC_RESOURCE_EXHAUSTED, `the body is larger than ${maxBytes} bytes`);
}

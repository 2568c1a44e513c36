import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { anthropicStream, asSse, geminiResponse, geminiStreamChunks } from '../../dev/llm-responses.mjs';
import {
  BodyCapture,
  CAPTURE_HEAD_BYTES,
  CAPTURE_TAIL_BYTES,
  MAX_CAPTURED_COMPRESSED_BYTES,
  captureBytesInUse,
} from '../../src/usage/body-capture.js';
import { usageKind } from '../helpers/usage-kind.js';

const GEMINI_PATH = '/v1beta/models/gemini-2.5-flash:streamGenerateContent';
const COUNTS = { prompt: 1000, cached: 100, candidates: 200, thoughts: 300 };

/** Feeds `bytes` in pieces of `size` (cutting events and multi-byte characters anywhere). */
function feed(capture: BodyCapture, bytes: Buffer, size: number): void {
  for (let i = 0; i < bytes.length; i += size) capture.push(bytes.subarray(i, i + size));
}

describe('BodyCapture', () => {
  it.each([1, 7, 64, 4096])('reads usage whatever the chunk boundaries (pieces of %i bytes)', (size) => {
    const capture = new BodyCapture(usageKind('gcp.gemini', GEMINI_PATH));
    feed(capture, Buffer.from(asSse(geminiStreamChunks('gemini-2.5-flash', COUNTS))), size);
    expect(capture.finish()).toMatchObject({ usage: { inputTokens: 1000, outputTokens: 500 } });
  });

  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['deflate', zlib.deflateRawSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('decodes a %s body', (encoding, compress) => {
    const capture = new BodyCapture(usageKind('gcp.gemini', GEMINI_PATH));
    capture.setEncoding(encoding);
    feed(capture, compress(Buffer.from(geminiResponse('gemini-2.5-flash', COUNTS))), 13);
    expect(capture.finish()).toMatchObject({
      usage: { inputTokens: 1000, outputTokens: 500, responseModel: 'gemini-2.5-flash' },
    });
  });

  it('reads what arrived of a compressed stream that broke off, and says it is incomplete', async () => {
    // A streaming server flushes each event, so what arrived decodes as far as it got.
    const events = anthropicStream('claude-haiku-4-5', { input: 10, output: 90 }).split('\n\n');
    const gzip = zlib.createGzip();
    const out: Buffer[] = [];
    gzip.on('data', (chunk: Buffer) => out.push(chunk));
    for (const event of events.slice(0, 3)) {
      gzip.write(`${event}\n\n`);
      await new Promise<void>((resolve) => gzip.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    }
    const capture = new BodyCapture(usageKind('anthropic', '/v1/messages'));
    capture.setEncoding('gzip');
    // message_start (the input count) arrived; the final message_delta never did.
    capture.push(Buffer.concat(out));
    expect(capture.finish(true)).toMatchObject({
      usage: { inputTokens: 10, outputTokens: 1, incomplete: true },
    });
  });

  it('keeps only a head and a tail of a large uncompressed body, and still finds the usage', () => {
    const filler = `{"candidates":[{"content":{"parts":[{"text":"${'x'.repeat(3 * (CAPTURE_HEAD_BYTES + CAPTURE_TAIL_BYTES))}"}]}}],`;
    const tail = `"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":9},"modelVersion":"gemini-2.5-flash"}`;
    const capture = new BodyCapture(
      usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'),
    );
    feed(capture, Buffer.from(filler + tail), 65_536);
    expect(capture.finish()).toMatchObject({ usage: { inputTokens: 7, outputTokens: 9 } });
    expect(capture.bytes).toBe(Buffer.byteLength(filler + tail));
  });

  it('gives up on a compressed body larger than it keeps, with a reason', () => {
    const capture = new BodyCapture(usageKind('gcp.gemini', GEMINI_PATH));
    capture.setEncoding('gzip');
    capture.push(Buffer.alloc(MAX_CAPTURED_COMPRESSED_BYTES + 1));
    expect(capture.finish()).toEqual({ reason: 'body_too_large' });
  });

  it('gives up on an encoding it cannot decode, and on garbage', () => {
    const unknown = new BodyCapture(usageKind('openai', '/v1/chat/completions'));
    unknown.setEncoding('compress');
    unknown.push(Buffer.from('x'));
    expect(unknown.finish()).toEqual({ reason: 'unsupported_encoding' });
    const garbage = new BodyCapture(usageKind('openai', '/v1/chat/completions'));
    garbage.setEncoding('gzip');
    garbage.push(Buffer.from('definitely not gzip'));
    expect(garbage.finish()).toEqual({ reason: 'undecodable_body' });
  });

  it('says so when no body bytes were seen at all', () => {
    expect(new BodyCapture(usageKind('openai', '/v1/chat/completions')).finish()).toEqual({
      reason: 'body_not_observed',
    });
  });

  it('finishes once, and ignores bytes after that', () => {
    const capture = new BodyCapture(usageKind('gcp.gemini', '/v1beta/models/m:generateContent'));
    capture.push(Buffer.from(geminiResponse('gemini-2.5-flash', COUNTS)));
    const first = capture.finish();
    capture.push(Buffer.from('more'));
    expect(capture.finish()).toBe(first);
  });

  it('holds its head and tail windows against the shared budget, and returns every byte when it finishes', () => {
    const before = captureBytesInUse();
    const capture = new BodyCapture(usageKind('gcp.gemini', GEMINI_PATH));
    feed(capture, Buffer.alloc(CAPTURE_HEAD_BYTES + CAPTURE_TAIL_BYTES + 100_000, 0x20), 8192);
    const held = captureBytesInUse() - before;
    expect(held).toBeGreaterThanOrEqual(CAPTURE_HEAD_BYTES + CAPTURE_TAIL_BYTES);
    // The tail is dropped a chunk at a time, so up to twice its size may be held.
    expect(held).toBeLessThanOrEqual(CAPTURE_HEAD_BYTES + 2 * CAPTURE_TAIL_BYTES);
    capture.finish();
    expect(captureBytesInUse()).toBe(before);
  });

  it('returns the bytes of a capture dropped unfinished once it is collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const before = captureBytesInUse();
    (() => {
      const capture = new BodyCapture(usageKind('gcp.gemini', GEMINI_PATH));
      capture.push(Buffer.alloc(100_000, 0x20));
    })();
    expect(captureBytesInUse()).toBe(before + 100_000);
    // Finalizers run after a collection, on a later turn: collect until it has run.
    // (Other tests' unfinished captures may be collected too, so "at most" what it was.)
    for (let i = 0; i < 50 && captureBytesInUse() > before; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(captureBytesInUse()).toBeLessThanOrEqual(before);
  });

  it('copies chunks, so the app may reuse its buffers', () => {
    const capture = new BodyCapture(usageKind('gcp.gemini', '/v1beta/models/m:generateContent'));
    const buffer = Buffer.from(geminiResponse('gemini-2.5-flash', COUNTS));
    capture.push(buffer);
    buffer.fill(0);
    expect(capture.finish()).toMatchObject({ usage: { inputTokens: 1000 } });
  });
});

describe('BodyCapture for dataset downloads', () => {
  const snapshot = JSON.stringify(
    Array.from({ length: 250 }, (_, i) => ({ id: i, html: `<p>record ${i}, [x]</p>` })),
  );

  it('counts records as they pass, without keeping the body', () => {
    const capture = new BodyCapture({ kind: 'records' });
    feed(capture, Buffer.from(snapshot), 97);
    expect(capture.finish()).toEqual({ records: 250 });
  });

  it('counts the records of a compressed download once it ends', () => {
    const capture = new BodyCapture({ kind: 'records' });
    capture.setEncoding('gzip');
    feed(capture, zlib.gzipSync(Buffer.from(snapshot)), 101);
    expect(capture.finish()).toEqual({ records: 250 });
  });

  it('gives no count for a download that broke off', () => {
    const capture = new BodyCapture({ kind: 'records' });
    capture.push(Buffer.from(snapshot.slice(0, 1000)));
    expect(capture.finish(true)).toEqual({ reason: 'download_incomplete' });
  });
});

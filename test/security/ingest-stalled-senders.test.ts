import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { djangoServerSpan, otlpRequest, PYTHON_RESOURCE } from '../helpers/otlp-payloads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack: senders that declare large bodies and then send nothing, or a few bytes, and
 * wait. Fourteen connections declaring 6 x 8 MiB and 8 x 2 MiB add up to the whole default
 * budget of bytes in flight (64 MiB). When a declared length was reserved on the headers,
 * every other export, even 1 KB, got 503 until Node's request timeout cut the stalled ones
 * 30 to 60 s later, and they could be opened again at no cost, by anyone with the token (or
 * any local process, on the default loopback bind). Run as a user runs it:
 * `otel-pg-analytics ingest` as a child process, defaults.
 */

const CLI = 'dist/cli/otel-pg-analytics.js';
const MiB = 1024 * 1024;
const STALLED_LENGTHS = [...Array<number>(6).fill(8 * MiB), ...Array<number>(8).fill(2 * MiB)];
/** Node's request timeout in ingest, which cut stalled senders before (30 s, checked every 30 s). */
const REQUEST_TIMEOUT_MILLIS = 30_000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('ingest_stalled');
});

afterAll(async () => {
  await db.drop();
});

interface StalledSender {
  /** Resolves once the server has taken the request to its handler (its `100 Continue`). */
  continued: Promise<void>;
  /** Resolves when the server closes the connection, with all it sent and when. */
  closed: Promise<{ text: string; atMillis: number }>;
  socket: Socket;
}

/**
 * Opens a connection that sends the headers of an export of `declared` bytes and then stalls,
 * after `bodyBytes` bytes of body. `Expect: 100-continue` (as curl sends for large bodies)
 * tells when the server has the request in its handler, where the declared length used to be
 * reserved.
 */
function stall(url: URL, declared: number, bodyBytes: number): StalledSender {
  const socket = connect(Number(url.port), url.hostname);
  let text = '';
  let onContinue: () => void = () => {};
  const continued = new Promise<void>((resolve) => (onContinue = resolve));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (text.startsWith('HTTP/1.1 100 ')) onContinue();
  });
  const closed = new Promise<{ text: string; atMillis: number }>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, atMillis: Date.now() }));
  });
  socket.write(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-protobuf\r\n` +
      `Content-Length: ${declared}\r\nExpect: 100-continue\r\n\r\n`,
  );
  void continued.then(() => {
    if (bodyBytes > 0) socket.write(Buffer.alloc(bodyBytes, 0x0a));
  });
  return { continued, closed, socket };
}

/** A valid OTLP/JSON export of one Django request, padded with spaces to `bytes`. */
function paddedExport(bytes: number): Buffer {
  const json = JSON.stringify(
    otlpRequest(PYTHON_RESOURCE, [{ scope: { name: 'django' }, spans: [djangoServerSpan()] }]),
  );
  return Buffer.concat([Buffer.from(json), Buffer.alloc(bytes - Buffer.byteLength(json), 0x20)]);
}

/** The status of the last response in what a raw connection received. */
function lastStatus(text: string): number {
  const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
  return statuses.at(-1) ?? 0;
}

describe('ingest with senders that declare large bodies and stall', () => {
  it(
    'answers small and large exports while stalled senders hold the whole declared budget, and cuts the stalled ones long before the request timeout',
    { timeout: 90_000 },
    async ({ annotate }) => {
      const app = await startApp(CLI, {
        register: false,
        args: ['ingest', '--port', '0'],
        env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
      });
      const url = new URL(app.url);
      // Half send nothing after the headers, half a few bytes.
      const startedAt = Date.now();
      const stalled = STALLED_LENGTHS.map((declared, i) => stall(url, declared, i % 2 === 0 ? 0 : 10));
      await Promise.all(stalled.map((s) => s.continued));
      let cut = 0;
      for (const s of stalled) void s.closed.then(() => cut++);

      const small = await fetch(app.url, {
        method: 'POST',
        body: paddedExport(2 * 1024),
        headers: { 'content-type': 'application/json' },
      });
      const large = await fetch(app.url, {
        method: 'POST',
        body: paddedExport(3 * MiB),
        headers: { 'content-type': 'application/json' },
      });
      const answeredAfterMillis = Date.now() - startedAt;
      // Answered while every stalled sender still held its connection.
      const stillStalled = STALLED_LENGTHS.length - cut;

      const ends = await Promise.all(stalled.map((s) => s.closed));
      const cutAfterMillis = ends.map((end) => end.atMillis - startedAt);
      await annotate(
        `stalled senders: ${STALLED_LENGTHS.length} (${STALLED_LENGTHS.reduce((a, b) => a + b) / MiB} MiB ` +
          `declared); 2 KiB export answered ${small.status}, 3 MiB export ${large.status}, ` +
          `${answeredAfterMillis} ms after the stall began, ${stillStalled} still stalled then; ` +
          `stalled ones answered ${JSON.stringify(ends.map((end) => lastStatus(end.text)))} and ` +
          `cut after ${Math.min(...cutAfterMillis)}..${Math.max(...cutAfterMillis)} ms`,
      );

      expect(small.status).toBe(200);
      expect(large.status).toBe(200);
      expect(stillStalled).toBe(STALLED_LENGTHS.length);
      for (const end of ends) {
        expect(lastStatus(end.text)).toBe(408);
        expect(end.text).toContain('no bytes of the body arrived');
      }
      expect(Math.max(...cutAfterMillis)).toBeLessThan(REQUEST_TIMEOUT_MILLIS);

      expect((await app.stop('SIGTERM')).code).toBe(0);
      const [row] = await db.query<{ n: string }>('select count(*) as n from api_access_log');
      expect(Number(row!.n)).toBe(2);
    },
  );
});

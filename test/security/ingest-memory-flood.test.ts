import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLP_TYPES } from '../../ingest/otlp-proto-root.js';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The attack: many senders each push a body just under ingest's per-body bound at once. Before
 * a budget of bytes in flight, every body was read together (20 of 7.5 MiB: 746 MB of RSS, 120:
 * 1.83 GB). Run as a user runs it: `otel-pg-analytics ingest` as a child process, defaults.
 */

const CLI = 'dist/cli/otel-pg-analytics.js';
const MiB = 1024 * 1024;
const SENDERS = 100;
const BODY_BYTES = 7.5 * MiB;
/** The bound docs/otlp-ingest.md states for the default budget. */
const PEAK_RSS_BOUND_BYTES = 512 * MiB;
/** How long the senders keep sending, each again at once after every answer. */
const FLOOD_MILLIS = 8000;
/** Span ids are `a55a`, the sender's byte, the attempt's byte, the span's index: rows tell whose. */
const SPAN_ID_MARK = [0xa5, 0x5a];
const SMALL_SENDER = 0xff;
const SPANS_PER_BODY = 2000;
const ROW_EVERY = 20;
const ROWS_PER_BODY = SPANS_PER_BODY / ROW_EVERY;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('ingest_flood');
});

afterAll(async () => {
  await db.drop();
});

/**
 * One protobuf export as the Collector sends them, of `spans` spans with the attributes of an
 * instrumented request and one large attribute; one in {@link ROW_EVERY} is a request (a row),
 * the others internal spans (none), so the exporter's queue keeps room while decoding is at
 * full load. Also where each span id's sender and attempt bytes sit, so every export sent gets
 * ids of its own without a copy of the body held.
 */
function exportTemplate(
  spans: number,
  padBytes: number,
  firstIndex = 0,
): { body: Buffer; senderOffsets: number[] } {
  const startNanos = BigInt(Date.now() - 60_000) * 1_000_000n;
  const attribute = (key: string, value: string | number) => ({
    key,
    value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
  });
  const traceId = Buffer.alloc(16, 0x11).toString('base64');
  const list = Array.from({ length: spans }, (_, i) => {
    // The sender's and the attempt's bytes (2, 3) are set per export sent.
    const spanId = Buffer.from([...SPAN_ID_MARK, 0, 0, 0, 0, 0, 0]);
    spanId.writeUInt32BE(firstIndex + i, 4);
    return {
      traceId,
      spanId: spanId.toString('base64'),
      name: 'GET /api/items/{id}',
      kind: i % ROW_EVERY === 0 ? 2 : 1,
      startTimeUnixNano: String(startNanos + BigInt(i) * 1000n),
      endTimeUnixNano: String(startNanos + BigInt(i) * 1000n + 25_000_000n),
      attributes: [
        attribute('http.request.method', 'GET'),
        attribute('url.path', `/api/items/${i}`),
        attribute('url.scheme', 'https'),
        attribute('http.route', '/api/items/{id}'),
        attribute('http.response.status_code', 200),
        attribute('network.peer.address', '10.1.2.3'),
        attribute('network.peer.port', 41000),
        attribute('server.address', 'shop.internal'),
        attribute('server.port', 8443),
        attribute('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64)'),
        attribute('network.protocol.version', '1.1'),
        attribute('app.padding', 'p'.repeat(padBytes)),
      ],
      status: {},
    };
  });
  const message = {
    resourceSpans: [
      {
        resource: { attributes: [attribute('service.name', 'flood')] },
        scopeSpans: [{ scope: { name: 'otelhttp' }, spans: list }],
      },
    ],
  };
  const type = OTLP_TYPES.exportRequest;
  const body = Buffer.from(type.encode(type.fromObject(message)).finish());
  // span_id is field 2 of Span, bytes of length 8: tag 0x12, length 0x08.
  const senderOffsets: number[] = [];
  for (let at = body.indexOf(Buffer.from([0x12, 0x08, ...SPAN_ID_MARK])); at !== -1;) {
    senderOffsets.push(at + 4);
    at = body.indexOf(Buffer.from([0x12, 0x08, ...SPAN_ID_MARK]), at + 1);
  }
  expect(senderOffsets).toHaveLength(spans);
  return { body, senderOffsets };
}

interface SendResult {
  sender: number;
  attempt: number;
  status: number;
  retryAfter: string | undefined;
}

/**
 * Posts the template as `sender`'s export number `attempt` (Content-Length declared, as the
 * Collector's otlphttp exporter sends it), a slice at a time; stops writing once answered.
 */
function send(
  url: string,
  template: { body: Buffer; senderOffsets: number[] },
  sender: number,
  attempt: number,
): Promise<SendResult> {
  return new Promise((resolve, reject) => {
    const { body, senderOffsets } = template;
    let answered = false;
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
    });
    req.on('response', (response) => {
      answered = true;
      response.resume();
      response.on('end', () => {
        resolve({
          sender,
          attempt,
          status: response.statusCode ?? 0,
          retryAfter: response.headers['retry-after'],
        });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const slice = 256 * 1024;
    let offset = 0;
    let next = 0;
    const write = (): void => {
      while (!answered && offset < body.length) {
        const end = Math.min(offset + slice, body.length);
        const chunk = Buffer.from(body.subarray(offset, end));
        while (next < senderOffsets.length && senderOffsets[next]! < end) {
          chunk[senderOffsets[next]! - offset] = sender;
          if (senderOffsets[next]! + 1 < end) chunk[senderOffsets[next]! + 1 - offset] = attempt;
          else throw new Error('a span id across slices');
          next++;
        }
        offset = end;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
      if (!answered) req.end();
    };
    write();
  });
}

function peakRssBytes(app: AppProcess): number {
  const status = readFileSync(`/proc/${app.child.pid}/status`, 'utf8');
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return Number(kib) * 1024;
}

describe('ingest under a flood of large bodies', () => {
  it(
    `keeps peak RSS within 512 MiB with ${SENDERS} concurrent senders of 7.5 MiB, answers a small export meanwhile, and takes nothing twice`,
    { timeout: 240_000 },
    async ({ annotate }) => {
      const unpadded = exportTemplate(SPANS_PER_BODY, 0).body.length;
      const padding = Math.floor((BODY_BYTES - unpadded) / SPANS_PER_BODY) - 4;
      const template = exportTemplate(SPANS_PER_BODY, padding);
      expect(template.body.length).toBeGreaterThan(BODY_BYTES - 8 * 1024);
      expect(template.body.length).toBeLessThanOrEqual(BODY_BYTES);

      const app = await startApp(CLI, {
        register: false,
        args: ['ingest', '--port', '0'],
        env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
      });
      const before = peakRssBytes(app);
      const until = Date.now() + FLOOD_MILLIS;
      // Each sender sends again as soon as it is answered, Retry-After or not, as an attacker would.
      const flood = Promise.all(
        Array.from({ length: SENDERS }, async (_, sender) => {
          const results: SendResult[] = [];
          for (let attempt = 0; attempt < 256 && Date.now() < until; attempt++) {
            results.push(await send(app.url, template, sender, attempt));
          }
          return results;
        }),
      );
      // Small exports, one after another, while the flood lasts.
      const smallResults: SendResult[] = [];
      while (Date.now() < until) {
        const small = exportTemplate(1, 100, smallResults.length);
        smallResults.push(await send(app.url, small, SMALL_SENDER, 0));
      }
      const results = (await flood).flat();
      const peak = peakRssBytes(app);

      const accepted = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      await annotate(
        `ingest flood: ${SENDERS} senders x ${(template.body.length / MiB).toFixed(2)} MiB for ` +
          `${FLOOD_MILLIS} ms: ${results.length} exports, ${accepted.length} answered 200, ` +
          `${refused.length} answered ${JSON.stringify(countBy(refused.map((r) => r.status)))}; ` +
          `${smallResults.length} small exports answered ` +
          `${JSON.stringify(countBy(smallResults.map((r) => r.status)))}; ` +
          `VmHWM ${(before / MiB).toFixed(0)} MiB before, ${(peak / MiB).toFixed(0)} MiB after`,
      );

      expect(smallResults.length).toBeGreaterThan(0);
      expect(smallResults.every((r) => r.status === 200)).toBe(true);
      expect(accepted.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.status).toBe(503);
        expect(r.retryAfter).toMatch(/^\d+$/);
      }
      expect(peak).toBeLessThanOrEqual(PEAK_RSS_BOUND_BYTES);
      // The operator hears of it, once a minute at most.
      expect(app.stderr().match(/answered 503 since the last report/g)).toHaveLength(1);

      // Every accepted export's spans, once; none of a refused one.
      const expected = accepted.length * ROWS_PER_BODY + smallResults.length;
      await waitForRows(expected);
      expect((await app.stop('SIGTERM')).code).toBe(0);
      const [counts] = await db.query<{ rows: string; distinct_spans: string }>(
        'select count(*) as rows, count(distinct span_id) as distinct_spans from api_access_log',
      );
      expect(Number(counts!.rows)).toBe(expected);
      expect(Number(counts!.distinct_spans)).toBe(expected);
      const exports = await db.query<{ export: string; n: string }>(
        `select substr(span_id, 5, 4) as export, count(*) as n from api_access_log
         where substr(span_id, 5, 2) <> 'ff' group by 1 order by 1`,
      );
      const hex = (r: SendResult) =>
        r.sender.toString(16).padStart(2, '0') + r.attempt.toString(16).padStart(2, '0');
      expect(exports.map((e) => e.export)).toEqual(accepted.map(hex).sort());
      for (const e of exports) expect(Number(e.n)).toBe(ROWS_PER_BODY);
    },
  );
});

function countBy(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Polls the row count until it reaches `expected` (the exporter writes behind its 200s). */
async function waitForRows(expected: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await db.query<{ n: string }>('select count(*) as n from api_access_log');
    if (Number(row!.n) >= expected || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

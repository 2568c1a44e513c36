import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Response body sizes of outbound `node:http` calls, whatever framing the server chose. */
describe('outbound calls through node:http', () => {
  let db: TestDatabase;
  let framed: http.Server;
  let closeDelimited: net.Server;
  let rows: { endpoint: string; method: string; status_code: number; response_size: string | null }[];

  beforeAll(async () => {
    db = await createTestDatabase('outbound_sizes');
    framed = http.createServer((req, res) => {
      if (req.url === '/no-content') {
        res.writeHead(204).end();
      } else if (req.url === '/chunked') {
        res.write('first part, ');
        res.end('second part');
      } else {
        res.setHeader('content-length', 11);
        res.end(req.method === 'HEAD' ? undefined : 'hello world');
      }
    });
    // An HTTP/1.0-style answer: no length, no chunking, the body ends when the connection does.
    closeDelimited = net.createServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the socket closes'),
      );
    });
    await new Promise<void>((resolve) => framed.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => closeDelimited.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(framed.address() as net.AddressInfo).port}`;
    const raw = `http://127.0.0.1:${(closeDelimited.address() as net.AddressInfo).port}`;
    const calls = [
      { method: 'GET', url: `${base}/fixed` },
      { method: 'HEAD', url: `${base}/fixed` },
      { method: 'GET', url: `${base}/no-content` },
      { method: 'GET', url: `${base}/chunked` },
      { method: 'GET', url: `${raw}/raw` },
    ];
    const app = await startApp('test/fixtures/http-client-calls.mjs', {
      waitForListening: false,
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url, CALLS: JSON.stringify(calls) },
    });
    expect(await app.exited).toEqual({ code: 0, signal: null });
    rows = await db.query(
      'select endpoint, method, status_code, response_size from external_api_call_log order by time',
    );
  });

  afterAll(async () => {
    framed?.close();
    closeDelimited?.close();
    await db?.drop();
  });

  it('records one row per call', () => {
    expect(rows.map((r) => `${r.method} ${new URL(r.endpoint).pathname} ${r.status_code}`)).toEqual([
      'GET /fixed 200',
      'HEAD /fixed 200',
      'GET /no-content 204',
      'GET /chunked 200',
      'GET /raw 200',
    ]);
  });

  it('takes the size from Content-Length, but 0 for HEAD and 204 whatever it says', () => {
    expect(rows.map((r) => r.response_size).slice(0, 3)).toEqual(['11', '0', '0']);
  });

  it('counts chunked and close-delimited bodies', () => {
    expect(rows[3]!.response_size).toBe(String(Buffer.byteLength('first part, second part')));
    expect(rows[4]!.response_size).toBe(String(Buffer.byteLength('until the socket closes')));
  });
});

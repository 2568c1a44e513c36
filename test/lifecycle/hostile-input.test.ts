import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Sends raw bytes as one HTTP/1.1 request and returns the status line's code (0: none). */
function rawRequest(url: string, head: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(head));
    let response = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (response += chunk));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)));
    socket.on('error', () => resolve(0));
  });
}

function request(target: string, headers: string[] = []): Buffer {
  return Buffer.concat([
    Buffer.from(`GET `, 'latin1'),
    Buffer.from(target, 'latin1'),
    Buffer.from(
      ` HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`,
      'latin1',
    ),
  ]);
}

describe('hostile request data mixed into good traffic', () => {
  let db: TestDatabase;
  let app: AppProcess;
  const answered: { label: string; status: number }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('hostile');
    app = await startApp('test/fixtures/serve-forever.mjs', { env: { OTEL_ANALYTICS_DATABASE_URL: db.url } });
    const hostile: [string, Buffer][] = [
      ['NUL escapes in path and query', request('/nul%00path?x=%00&y=a%00b')],
      [
        'raw non-UTF-8 bytes in the path (refused by Node itself)',
        Buffer.concat([
          Buffer.from('GET /bytes/'),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        ]),
      ],
      ['bad percent-encoding', request('/bad%zz%e0%80?q=%e0%80&%=%')],
      ['a 10,000-character query string', request(`/long?${'a'.repeat(5000)}=${'b'.repeat(5000)}`)],
      [
        'a thousand query parameters',
        request(`/many?${Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&')}`),
      ],
      ['a 12 KB user agent', request('/ua', [`User-Agent: ${'U'.repeat(12_000)}`])],
      ['a user agent in Latin-1', request('/latin', ['User-Agent: caf\xe9 \xfcber'])],
      ['spoofed X-Forwarded-For', request('/spoof', ['X-Forwarded-For: 6.6.6.6, 10.0.0.1'])],
      [
        'malformed Forwarded and X-Forwarded-For',
        request('/forwarded', ['Forwarded: for="[zz::1"; proto=', 'X-Forwarded-For: not-an-ip, , 999.1.1.1']),
      ],
      ['64 KB of headers (refused by Node itself)', request('/huge', [`X-Big: ${'h'.repeat(64 * 1024)}`])],
      [
        'a NUL byte in a header value (refused by Node itself)',
        request('/nulheader', ['User-Agent: a\x00b']),
      ],
    ];
    for (let i = 0; i < hostile.length; i++) {
      answered.push({ label: `good ${i}`, status: await rawRequest(app.url, request(`/good/${i}`)) });
      const [label, bytes] = hostile[i]!;
      answered.push({ label, status: await rawRequest(app.url, bytes) });
    }
    answered.push({ label: 'good last', status: await rawRequest(app.url, request('/good/last')) });
    await app.stop();
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('keeps serving: every good request is answered', () => {
    for (const { label, status } of answered.filter((a) => a.label.startsWith('good'))) {
      expect({ label, status }).toEqual({ label, status: 200 });
    }
  });

  it('answers hostile requests the way Node does without us', () => {
    const status = (label: string) => answered.find((a) => a.label === label)?.status;
    for (const label of [
      'NUL escapes in path and query',
      'bad percent-encoding',
      'a 10,000-character query string',
      'a thousand query parameters',
      'a 12 KB user agent',
      'a user agent in Latin-1',
      'spoofed X-Forwarded-For',
      'malformed Forwarded and X-Forwarded-For',
    ]) {
      expect({ label, status: status(label) }).toEqual({ label, status: 200 });
    }
    // Node answers 431 and closes; the reset can reach the client before the answer does.
    expect([0, 431]).toContain(status('64 KB of headers (refused by Node itself)'));
    expect(status('a NUL byte in a header value (refused by Node itself)')).toBe(400);
    expect(status('raw non-UTF-8 bytes in the path (refused by Node itself)')).toBe(400);
  });

  it('writes one row for every request the app answered, good and hostile alike', async () => {
    const reachedApp = answered.filter((a) => a.status === 200).length;
    const rows = await db.query<{ n: number }>('select count(*)::int as n from api_access_log');
    expect(rows[0]!.n).toBe(reachedApp);
    const good = await db.query(`select path from api_access_log where path like '/good/%'`);
    expect(good).toHaveLength(answered.filter((a) => a.label.startsWith('good')).length);
  });

  it('stores hostile text safely: no NUL bytes, well-formed, within the byte limits', async () => {
    const rows = await db.query<{
      path: string;
      user_agent: string | null;
      q: string | null;
      endpoint: string;
    }>(`select path, endpoint, user_agent, query_params::text as q from api_access_log`);
    for (const row of rows) {
      for (const value of [row.path, row.endpoint, row.user_agent, row.q]) {
        if (value === null) continue;
        expect(value).not.toContain('\u0000');
        expect(value.isWellFormed()).toBe(true);
      }
      expect(Buffer.byteLength(row.path)).toBeLessThanOrEqual(2048);
      expect(Buffer.byteLength(row.endpoint)).toBeLessThanOrEqual(1024);
      expect(Buffer.byteLength(row.user_agent ?? '')).toBeLessThanOrEqual(1024);
      expect(Buffer.byteLength(row.q ?? '')).toBeLessThanOrEqual(8192 + 16);
    }
  });

  it('never takes a client address from spoofable headers', async () => {
    const addresses = await db.query<{ ip: string; peer: string }>(
      'select distinct host(ip_address) as ip, host(peer_address) as peer from api_access_log',
    );
    expect(addresses).toEqual([{ ip: '127.0.0.1', peer: '127.0.0.1' }]);
  });

  it('caps the query parameters kept and says how many were dropped', async () => {
    const [row] = await db.query<{ keys: number; metadata: { query_params_dropped?: number } }>(
      `select (select count(*) from jsonb_object_keys(query_params))::int as keys, metadata
       from api_access_log where path = '/many'`,
    );
    expect(row!.keys).toBe(100);
    expect(row!.metadata.query_params_dropped).toBe(900);
  });
});

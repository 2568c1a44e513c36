import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** What a client saw of one request: the final status line's code, or null when none came. */
interface Seen {
  label: string;
  status: number | null;
}

interface Row {
  path: string;
  status_code: number | null;
  error_message: string | null;
  metadata: { aborted?: boolean; no_response?: string } | null;
}

/**
 * A raw HTTP/1.1 client: sends `head`, then lets `act` do what it does to the socket, at once
 * or once `trigger` appears in what came back; reports the status it saw when the socket
 * closes (a 100 Continue is only an interim answer).
 */
function rawRequest(
  url: string,
  label: string,
  head: string,
  act?: { trigger?: RegExp; then(socket: net.Socket): void },
): Promise<Seen> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let response = '';
    let acted = false;
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(head);
      if (act && !act.trigger) {
        acted = true;
        act.then(socket);
      }
    });
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      response += chunk;
      if (act?.trigger && !acted && act.trigger.test(response)) {
        acted = true;
        act.then(socket);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const final = /HTTP\/1\.1 ([2-5]\d\d) /.exec(response);
      resolve({ label, status: final ? Number(final[1]) : null });
    });
  });
}

/** Resolves once the app printed `text` at least `times` times. */
async function printed(app: AppProcess, text: string, times = 1): Promise<void> {
  while (app.stdout().split(text).length - 1 < times) {
    await new Promise<void>((resolve) => app.child.stdout!.once('data', () => resolve()));
  }
}

describe('the status of requests that got no normal response, as their clients saw it', () => {
  let db: TestDatabase;
  const seen: Seen[] = [];
  let rows: Row[];

  beforeAll(async () => {
    db = await createTestDatabase('no_response');
    const app = await startApp('test/fixtures/body-app.mjs', {
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    const { url } = app;
    const post = (path: string, headers: string[]): string =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
    const destroyOnce = (text: string, times = 1) => ({
      then: (socket: net.Socket) => void printed(app, text, times).then(() => socket.destroy()),
    });

    seen.push(await rawRequest(url, 'complete', 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    seen.push(
      await rawRequest(
        url,
        'JSON that express.json() cannot parse',
        `${post('/json', ['Content-Length: 9', 'Connection: close'])}{not json`,
      ),
    );
    seen.push(
      await rawRequest(
        url,
        'upload cut off mid-body',
        `${post('/upload', ['Content-Length: 100000'])}${'x'.repeat(1000)}`,
        destroyOnce('upload receiving', 1),
      ),
    );
    seen.push(
      await rawRequest(
        url,
        'chunked upload whose framing breaks mid-body',
        `${post('/upload', ['Transfer-Encoding: chunked'])}5\r\nhello\r\n`,
        {
          then: (socket) => void printed(app, 'upload receiving', 2).then(() => socket.write('zz\r\n')),
        },
      ),
    );
    // The JSON uploads: the 100 Continue says the app has taken the request.
    seen.push(
      await rawRequest(
        url,
        'JSON upload cut off mid-body',
        post('/json', ['Content-Length: 100000', 'Expect: 100-continue']),
        {
          trigger: /^HTTP\/1\.1 100 /,
          then: (socket) => socket.write('{"a": "part of', () => socket.destroy()),
        },
      ),
    );
    seen.push(
      await rawRequest(
        url,
        'client gives up waiting',
        'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n',
        destroyOnce('hang received'),
      ),
    );
    seen.push(
      await rawRequest(url, 'client gives up mid-response', 'GET /partial HTTP/1.1\r\nHost: x\r\n\r\n', {
        trigger: /part of it/,
        then: (socket) => socket.destroy(),
      }),
    );
    await printed(app, 'closed ', seen.length);
    await app.stop();
    rows = await db.query<Row>(
      'select path, status_code, error_message, metadata from api_access_log order by time',
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('has the clients see what each case is meant to show', () => {
    expect(seen).toEqual([
      { label: 'complete', status: 200 },
      { label: 'JSON that express.json() cannot parse', status: 400 },
      { label: 'upload cut off mid-body', status: null },
      { label: 'chunked upload whose framing breaks mid-body', status: 400 },
      { label: 'JSON upload cut off mid-body', status: null },
      { label: 'client gives up waiting', status: null },
      { label: 'client gives up mid-response', status: 200 },
    ]);
  });

  it('stores each request with the status its client saw', () => {
    expect(rows.map((r) => r.status_code)).toEqual(seen.map((s) => s.status));
  });

  it('says of a request that got no response that the client closed the connection first', () => {
    const none = rows.filter((r) => r.status_code === null);
    expect(none.map((r) => ({ path: r.path, metadata: r.metadata, error: r.error_message }))).toEqual([
      {
        path: '/upload',
        metadata: { aborted: true, no_response: 'client_closed' },
        error: 'the client closed the connection before a response',
      },
      // The app's own error, when it has one, names the failure.
      { path: '/json', metadata: { aborted: true, no_response: 'client_closed' }, error: 'request aborted' },
      {
        path: '/hang',
        metadata: { aborted: true, no_response: 'client_closed' },
        error: 'the client closed the connection before a response',
      },
    ]);
  });

  it('flags responses that did not complete as aborted, and only those', () => {
    expect(rows.map((r) => ({ path: r.path, aborted: r.metadata?.aborted === true }))).toEqual([
      { path: '/ok', aborted: false },
      { path: '/json', aborted: false },
      { path: '/upload', aborted: true },
      { path: '/upload', aborted: true },
      { path: '/json', aborted: true },
      { path: '/hang', aborted: true },
      { path: '/partial', aborted: true },
    ]);
  });

  it('names the failure of a request Node itself answered 400', () => {
    expect(rows[3]!.error_message).toBe('Parse Error: Invalid character in chunk size');
  });
});

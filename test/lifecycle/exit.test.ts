import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app-process.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('exit', { writer: true });
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.query('truncate api_access_log, authentication_log, external_api_call_log');
});

async function apiRows(): Promise<number> {
  return (await db.query<{ n: number }>('select count(*)::int as n from api_access_log'))[0]!.n;
}

/** Long enough that only the exit path, never the timer, can have flushed. */
const SLOW_FLUSH = { OTEL_BSP_SCHEDULE_DELAY: '600000' };

describe('leaving the process', () => {
  it('flushes pending rows when a CommonJS app ends naturally, keeping its exit code', async () => {
    const app = await startApp('test/fixtures/serve-and-exit.cjs', {
      waitForListening: false,
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, REQUESTS: '4', EXIT_CODE: '3' },
    });
    expect(await app.exited).toEqual({ code: 3, signal: null });
    // Four requests served and four outbound fetch calls (the app calls itself).
    expect(await apiRows()).toBe(4);
    expect(app.stderr()).toBe('');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('flushes on %s, then ends by that signal', async (signal) => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl },
    });
    for (let i = 0; i < 3; i++) await (await fetch(`${app.url}/x${i}`)).text();
    expect(await app.stop(signal)).toEqual({ code: null, signal });
    expect(await apiRows()).toBe(3);
  });

  it('lets an app that handles SIGTERM itself decide how to exit, and still flushes', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, OWN_SIGTERM_HANDLER: '1' },
    });
    await (await fetch(`${app.url}/once`)).text();
    // The app closes its server and ends naturally: code 0, not killed by the signal.
    expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await apiRows()).toBe(1);
  });

  it('lets an app drain gracefully with its own once-listener, recording what it serves meanwhile', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: { ...SLOW_FLUSH, OTEL_ANALYTICS_DATABASE_URL: db.writerUrl, DRAIN_ON_SIGTERM_MS: '1500' },
    });
    await (await fetch(`${app.url}/before`)).text();
    app.child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const check = (): void => (app.stdout().includes('draining') ? resolve() : void setTimeout(check, 20));
      check();
    });
    // Still serving during the drain: we must not have re-raised the signal.
    expect(await (await fetch(`${app.url}/during`)).text()).toBe('ok /during');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    const paths = await db.query('select path from api_access_log order by time');
    expect(paths).toEqual([{ path: '/before' }, { path: '/during' }]);
  });

  it('installs no signal handler when OTEL_ANALYTICS_HANDLE_SIGNALS=false', async () => {
    const app = await startApp('test/fixtures/serve-forever.mjs', {
      env: {
        ...SLOW_FLUSH,
        OTEL_ANALYTICS_DATABASE_URL: db.writerUrl,
        OTEL_ANALYTICS_HANDLE_SIGNALS: 'false',
      },
    });
    await (await fetch(`${app.url}/once`)).text();
    expect(await app.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await apiRows()).toBe(0);
  });
});

/** A GET whose outcome is the status line the client saw, or the error it got instead. */
function get(
  url: string,
  agent: http.Agent | false,
): Promise<{ status?: number; error?: string; socket: net.Socket }> {
  return new Promise((resolve) => {
    let socket: net.Socket;
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, socket }));
    });
    request.on('socket', (s) => (socket = s));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message, socket }),
    );
  });
}

describe('SIGTERM while the final flush takes its time (Postgres refuses connections)', () => {
  it('answers nothing more at once, records the request it cut, and ends by the signal', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-exit-'));
    const url = new URL(db.writerUrl);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    // A service that takes calls and never answers: the app's request to it stays in flight.
    const silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
    try {
      const config = path.join(dir, 'analytics.json');
      writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 60_000, statsIntervalMillis: 0 }));
      const env = {
        ...SLOW_FLUSH,
        OTEL_ANALYTICS_DATABASE_URL: proxy.urlFor(db.writerUrl),
        OTEL_ANALYTICS_CONFIG: config,
        OTEL_ANALYTICS_SPOOL_DIR: path.join(dir, 'spool'),
        OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '3000',
      };
      proxy.refuse(true);
      const app = await startApp('test/fixtures/serve-forever.mjs', { env });
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const answered = await get(`${app.url}/answered`, keepAlive);
      expect(answered.status).toBe(200);
      const idleClosed = new Promise<void>((resolve) => answered.socket.once('close', () => resolve()));
      const inFlight = get(`${app.url}/call?to=${encodeURIComponent(silentUrl)}`, false);
      // The app's outbound call is open: its request is in flight.
      await new Promise<void>((resolve) => silent.once('connection', () => resolve()));

      let exited = false;
      void app.exited.then(() => (exited = true));
      app.child.kill('SIGTERM');
      // The final flush has begun (it fails to connect, and keeps trying for 3 s): the process
      // is alive, and behaves as a killed one would. The request in flight was cut, the idle
      // keep-alive connection closed, and a new request gets no answer.
      while (!/cannot write to Postgres/.test(app.stderr())) {
        await new Promise<void>((resolve) => app.child.stderr!.once('data', () => resolve()));
      }
      const after = await get(`${app.url}/after`, false);
      const [cut] = await Promise.all([inFlight, idleClosed]);
      expect({ after: after.status, cut: cut.status, exited }).toEqual({
        after: undefined,
        cut: undefined,
        exited: false,
      });
      expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
      keepAlive.destroy();

      // The rows went to the spool: the next start, with Postgres back, writes them.
      proxy.refuse(false);
      const next = await startApp('test/fixtures/serve-forever.mjs', { env });
      expect(await next.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
      const rows = await db.query<{
        path: string;
        status: number | null;
        error: string | null;
        metadata: object | null;
      }>(
        'select path, status_code as status, error_message as error, metadata from api_access_log order by time',
      );
      expect(rows).toEqual([
        { path: '/answered', status: 200, error: null, metadata: { endpoint_source: 'normalized_path' } },
        {
          path: '/call',
          status: null,
          error: 'the process stopped (on a signal) before a response',
          metadata: { aborted: true, no_response: 'process_stopped', endpoint_source: 'normalized_path' },
        },
      ]);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

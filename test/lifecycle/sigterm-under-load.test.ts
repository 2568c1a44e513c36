import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** What the clients of a load saw, request by request. */
interface Outcomes {
  /** Responses whose status line arrived (every one a 200 here). */
  answered: number;
  /** Requests that got no status line: refused, reset, or cut. */
  unanswered: number;
}

/**
 * Keeps `concurrency` keep-alive clients busy with `GET /work` until the app exits, plus one
 * connection that pipelines requests three at a time. `onAnswered` sees the running count.
 */
function loadUntilExit(app: AppProcess, concurrency: number, onAnswered: (answered: number) => void) {
  const outcomes: Outcomes = { answered: 0, unanswered: 0 };
  let running = true;
  void app.exited.then(() => (running = false));
  const answered = (): void => {
    outcomes.answered++;
    onAnswered(outcomes.answered);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const request = http.get(`${app.url}/work`, { agent }, (response) => {
        // The status line is what the client saw; the body may still be cut.
        answered();
        response.resume();
        response.on('end', resolve).on('error', resolve).on('aborted', resolve);
      });
      request.on('error', () => {
        outcomes.unanswered++;
        resolve();
      });
    });
  const loop = async (): Promise<void> => {
    while (running) await once();
  };
  const pipelined = async (): Promise<void> => {
    const { hostname, port } = new URL(app.url);
    while (running) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), hostname);
        let text = '';
        let seen = 0;
        let sent = 0;
        const send = (): void => {
          sent += 3;
          socket.write('GET /work HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3));
        };
        socket.setEncoding('latin1');
        socket.on('connect', send);
        socket.on('data', (chunk: string) => {
          text += chunk;
          const statuses = text.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0;
          for (; seen < statuses; seen++) answered();
          if (seen === sent && text.endsWith('ok')) {
            text = '';
            seen = sent = 0;
            if (running) send();
            else socket.end();
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          outcomes.unanswered += sent - seen;
          resolve();
        });
      });
    }
  };
  const done = Promise.all([...Array.from({ length: concurrency }, loop), pipelined()]).then(() => {
    agent.destroy();
    return outcomes;
  });
  return { done };
}

interface Stored {
  rows: number;
  distinct: number;
  with_status: number;
  no_response: number;
}

describe('SIGTERM under load, for an app that does not handle it', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('sigterm_load');
    const url = new URL(db.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-sigterm-'));
  });

  afterAll(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  /**
   * Runs the load, sends SIGTERM once `answeredBefore` requests were answered (with Postgres
   * cut off first when `outage`), then starts the app again with Postgres reachable so it
   * replays what the first run spooled, and compares the rows with what the clients saw.
   */
  async function run(
    label: string,
    outage: boolean,
  ): Promise<{ outcomes: Outcomes; stored: Stored; atSignal: number }> {
    await db.query('truncate api_access_log, authentication_log, external_api_call_log');
    const config = path.join(dir, `${label}.json`);
    writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 1000, statsIntervalMillis: 0 }));
    const env = {
      OTEL_ANALYTICS_DATABASE_URL: proxy.urlFor(db.url),
      OTEL_ANALYTICS_CONFIG: config,
      OTEL_ANALYTICS_SPOOL_DIR: path.join(dir, `spool-${label}`),
    };
    const app = await startApp('test/fixtures/load-app.mjs', { env });
    let atSignal = 0;
    const load = loadUntilExit(app, 8, (answered) => {
      // A black hole: writes in progress hang, new connections get nowhere.
      if (outage && answered === 1000) proxy.stall(true);
      if (answered === 3000) {
        atSignal = answered;
        app.child.kill('SIGTERM');
      }
    });
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
    const outcomes = await load.done;
    proxy.stall(false);
    const next = await startApp('test/fixtures/load-app.mjs', { env });
    expect(await next.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
    const [stored] = await db.query<Stored>(
      `select count(*)::int as rows, count(distinct span_id)::int as distinct,
        (count(*) filter (where status_code is not null))::int as with_status,
        (count(*) filter (where metadata ? 'no_response'))::int as no_response
       from api_access_log`,
    );
    return { outcomes, stored: stored!, atSignal };
  }

  it.for<[string, boolean]>([
    ['with Postgres up', false],
    ['during a Postgres outage, replayed by the next start', true],
  ])(
    'records every request it answered, once (%s)',
    { timeout: 60_000 },
    async ([label, outage], { annotate }) => {
      const { outcomes, stored, atSignal } = await run(outage ? 'outage' : 'up', outage);
      await annotate(
        `${label}: ${outcomes.answered} answered (${outcomes.answered - atSignal} after SIGTERM was sent), ` +
          `${outcomes.unanswered} not; rows ${stored.rows} ` +
          `(${stored.with_status} with a status, ${stored.no_response} cut by the signal)`,
      );
      expect(outcomes.answered).toBeGreaterThanOrEqual(3000);
      expect(stored.rows).toBe(stored.distinct);
      expect(stored.with_status).toBe(outcomes.answered);
      // Requests in flight at the signal were cut: recorded as such, and never more than the
      // clients left without an answer.
      expect(stored.rows - stored.with_status).toBe(stored.no_response);
      expect(stored.no_response).toBeLessThanOrEqual(outcomes.unanswered);
    },
  );
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { unusedPort } from '../helpers/ports.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * json-server (Express 4, compression, body-parser, morgan): an app nobody here wrote, run
 * from its own CLI under the register entry, exactly as its users start it.
 */
const DATA = {
  posts: Array.from({ length: 60 }, (_, i) => ({
    id: i + 1,
    title: `post number ${i + 1}`,
    author: `author ${i % 7}`,
  })),
  comments: [{ id: 1, body: 'first!', postId: 1 }],
  profile: { name: 'typicode' },
};

interface Answer {
  request: string;
  status: number;
  /** Bytes on the wire (gzip when the server compressed). */
  wireBytes: number;
  encoding: string | undefined;
  body: string;
}

/** One request without transparent decompression, so the bytes on the wire can be counted. */
function send(base: string, method: string, route: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      `${base}${route}`,
      {
        method,
        headers: {
          'accept-encoding': 'gzip',
          ...(payload !== undefined && {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({
            request: `${method} ${route}`,
            status: response.statusCode ?? 0,
            wireBytes: raw.length,
            encoding: response.headers['content-encoding'],
            body: response.headers['content-encoding'] === 'gzip' ? '(gzip)' : raw.toString('utf8'),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

async function traffic(base: string): Promise<Answer[]> {
  return [
    await send(base, 'GET', '/posts'),
    await send(base, 'GET', '/posts/1'),
    await send(base, 'GET', '/posts?author=author%203&_sort=id&_order=desc'),
    await send(base, 'POST', '/posts', { title: 'written by the test', author: 'vitest' }),
    await send(base, 'PATCH', '/posts/1', { title: 'renamed' }),
    await send(base, 'DELETE', '/posts/2'),
    await send(base, 'GET', '/posts/999'),
    await send(base, 'GET', '/comments?postId=1'),
    await send(base, 'GET', '/profile'),
  ];
}

async function waitUntilServing(url: string, app: AppProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (app.child.exitCode !== null) throw new Error(`json-server exited: ${app.stderr()}`);
    const ok = await fetch(`${url}/profile`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('json-server did not start');
}

describe('json-server, an app nobody here wrote, under the register entry', () => {
  let db: TestDatabase;
  let dir: string;
  const answers: Answer[][] = [];
  /** Rows before this are the readiness probes. */
  let trafficStarted = new Date();

  beforeAll(async () => {
    db = await createTestDatabase('third_party');
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-json-server-'));
    for (const register of [false, true]) {
      const file = path.join(dir, `db-${register}.json`);
      writeFileSync(file, JSON.stringify(DATA));
      const port = await unusedPort();
      const started = await startApp('node_modules/json-server/lib/cli/bin.js', {
        register,
        waitForListening: false,
        env: { OTEL_ANALYTICS_DATABASE_URL: db.url, OTEL_SERVICE_NAME: 'json-server' },
        args: [file, '--port', String(port), '--host', '127.0.0.1'],
      });
      const url = `http://127.0.0.1:${port}`;
      await waitUntilServing(url, started);
      trafficStarted = new Date();
      answers.push(await traffic(url));
      expect(await started.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    }
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('answers exactly as without the register entry', () => {
    expect(answers[1]).toEqual(answers[0]);
    // Compression really happened, so the size check below means something.
    expect(answers[1]![0]!.encoding).toBe('gzip');
  });

  it('gets one correct row per request it served', async () => {
    const rows = await db.query<{
      method: string;
      path: string;
      endpoint: string;
      status_code: number;
      request_size: string;
      response_size: string;
      service_name: string;
    }>(
      'select method, path, endpoint, status_code, request_size, response_size, service_name from api_access_log where time >= $1 order by time',
      [trafficStarted],
    );
    const served = answers[1]!;
    expect(rows).toHaveLength(served.length);
    rows.forEach((row, i) => {
      const answer = served[i]!;
      const [method, route] = answer.request.split(' ') as [string, string];
      expect(row).toMatchObject({
        method,
        path: route.split('?')[0],
        status_code: answer.status,
        response_size: String(answer.wireBytes),
        service_name: 'json-server',
      });
    });
    expect(rows.map((r) => r.endpoint)).toEqual([
      '/posts',
      '/posts/:id',
      '/posts',
      '/posts',
      '/posts/:id',
      '/posts/:id',
      '/posts/:id',
      '/comments',
      '/profile',
    ]);
    expect(rows[3]!.request_size).toBe(
      String(Buffer.byteLength(JSON.stringify({ title: 'written by the test', author: 'vitest' }))),
    );
  });
});

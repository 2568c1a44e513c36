// What the benchmarks share: the servers they start, the load they send, what they read off
// a process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

/** A local server answering with a small JSON body: the outbound target and the OTLP sink. */
export function startSink() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, server }),
    ),
  );
}

export function startServer(mode, env) {
  const args = [];
  if (mode === 'floor') args.push('--import', path.join(ROOT, 'bench/floor.mjs'));
  if (mode === 'stock') args.push('--import', path.join(ROOT, 'bench/stock.mjs'));
  if (mode === 'ours') args.push('--import', 'otel-pg-analytics/register');
  args.push(path.join(ROOT, 'bench/app.mjs'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    exited.then(() => reject(new Error(`${mode} server exited: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

/** CPU seconds (user + system) and RSS bytes of a process, from /proc. */
export function processStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpu, rss };
}

/**
 * Runs autocannon; `lastResponseAt` is when the last response arrived (autocannon ends
 * `amount` runs on its one-second ticker, so its own duration is whole seconds).
 */
export function cannon(url, request, options) {
  let lastResponseAt = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}${request.path}`,
        method: request.method,
        body: request.body,
        headers: request.headers,
        connections: CONNECTIONS,
        ...options,
      },
      (error, result) => (error ? reject(error) : resolve({ ...result, lastResponseAt })),
    );
    instance.on('response', () => (lastResponseAt = performance.now()));
  });
}

// What the benchmarks share: the servers they start, the load they send, what they read off
// a process.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

/**
 * @typedef {object} BenchRequest  one request of a scenario, as autocannon sends it
 * @property {string} method
 * @property {string} path
 * @property {string} [body]
 * @property {Record<string, string>} [headers]
 */

/**
 * A local server answering with a small JSON body: the outbound target and the OTLP sink.
 * `spans()` is how many spans OTLP/JSON bodies posted to it carried, so a benchmark can wait
 * for stock OpenTelemetry's export to finish and see what it dropped.
 * @returns {Promise<{ url: string, server: http.Server, spans: () => number }>}
 */
export function startSink() {
  let spans = 0;
  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') spans += countSpans(Buffer.concat(chunks).toString('latin1'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`,
        server,
        spans: () => spans,
      }),
    ),
  );
}

/** @param {string} body */
function countSpans(body) {
  // Each span of an OTLP/JSON export carries one "spanId" key (parents are "parentSpanId").
  let n = 0;
  for (let i = body.indexOf('"spanId"'); i !== -1; i = body.indexOf('"spanId"', i + 8)) n++;
  return n;
}

/**
 * Resolves once `count()` reaches `expected`, or once it has not moved for `quietMillis`
 * (longer than a BatchSpanProcessor's 5 s delay, so a last partial batch is waited for);
 * gives the last count. Polls every 50 ms.
 * @param {() => number | Promise<number>} count
 * @param {number} expected
 */
export async function waitForCount(count, expected, quietMillis = 6000) {
  let last = await count();
  let movedAt = performance.now();
  while (last < expected && performance.now() - movedAt < quietMillis) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await count();
    if (now !== last) movedAt = performance.now();
    last = now;
  }
  return last;
}

/** Apps started so far: numbers each one's profile folder. */
let appsStarted = 0;

/** Modes between "floor" and "ours" (bench/stages.mjs). */
export const STAGES = ['hooks', 'processor', 'mapped'];

/**
 * Starts an app (bench/app.mjs unless named) in a child process under `mode`'s instrumentation.
 * @param {string} mode
 * @param {Record<string, string>} env
 * @param {string} [app]  the app's script, relative to the package root
 */
export function startServer(mode, env, app = 'bench/app.mjs') {
  // BENCH_CPU_PROF=<dir>: each app writes V8 CPU profiles into <dir>/<mode>-<n>/ as it exits
  // (one per thread: the main thread's is the largest; the ESM loader hooks run on another).
  const profileDir = process.env.BENCH_CPU_PROF;
  const args = profileDir
    ? ['--cpu-prof', '--cpu-prof-dir', path.join(profileDir, `${mode}-${++appsStarted}`)]
    : [];
  if (mode === 'floor') args.push('--import', path.join(ROOT, 'bench/floor.mjs'));
  if (mode === 'stock') args.push('--import', path.join(ROOT, 'bench/stock.mjs'));
  if (mode === 'ours') args.push('--import', 'otel-pg-analytics/register');
  if (STAGES.includes(mode)) args.push('--import', path.join(ROOT, 'bench/stages.mjs'));
  args.push(path.join(ROOT, app));
  return startProcess(mode, args, { ...env, BENCH_STAGE: mode });
}

/**
 * Starts `otel-pg-analytics ingest` (from dist/) on a free loopback port: the relay that writes
 * stock OpenTelemetry's OTLP exports to PostgreSQL. `url` is its origin (the traces path is
 * `/v1/traces`).
 * @param {Record<string, string>} env  OTEL_ANALYTICS_DATABASE_URL and the like
 */
export function startRelay(env) {
  const relay = startProcess(
    'ingest',
    [path.join(ROOT, 'dist/cli/otel-pg-analytics.js'), 'ingest', '--host', '127.0.0.1', '--port', '0'],
    env,
  );
  return { ...relay, url: relay.url.then((url) => new URL(url).origin) };
}

/**
 * A child process of Node, without the bench's own OTEL_* variables; `url` resolves once it
 * prints `listening on <url>`.
 * @param {string} name  for the error when it exits first
 * @param {string[]} args
 * @param {Record<string, string>} env
 */
function startProcess(name, args, env) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  /** @type {Promise<string>} */
  const url = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`${name} exited: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

/**
 * CPU seconds (user + system) and RSS bytes of a process, from /proc; `v8Cpu` is the part spent
 * on V8's own threads (`V8Worker`: parallel scavenges, concurrent marking, background
 * compilation), which a CPU profile of the main thread does not show.
 * @param {number | undefined} pid
 */
export function processStats(pid) {
  const cpu = cpuOf(statOf(`${pid}`));
  let v8Cpu = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'V8Worker') {
        v8Cpu += cpuOf(statOf(`${pid}/task/${tid}`));
      }
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/** @type {RegExpExecArray} */ (/VmRSS:\s+(\d+)/.exec(status))[1]) * 1024;
  return { cpu, v8Cpu, rss };
}

/**
 * The fields of /proc/<pid>/stat after the command (the state is [0], the parent pid [1],
 * utime [11], stime [12], cutime [13], cstime [14]); undefined once the process is gone.
 * @param {number | string} pid  a process, or `<pid>/task/<tid>` for one of its threads
 */
export function statOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * User + system CPU seconds of a process's (or thread's) stat fields.
 * @param {string[] | undefined} fields
 */
function cpuOf(fields) {
  if (fields === undefined) throw new Error('the process is gone');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Runs autocannon; `lastResponseAt` is when the last response arrived (autocannon ends
 * `amount` runs on its one-second ticker, so its own duration is whole seconds). Given a list,
 * each connection sends its requests in turn.
 * @param {string} url
 * @param {BenchRequest | BenchRequest[]} request
 * @param {{ amount?: number, duration?: number }} options
 * @returns {Promise<import('autocannon').Result & { lastResponseAt: number }>}
 */
export function cannon(url, request, options) {
  let lastResponseAt = performance.now();
  const [first, ...more] = Array.isArray(request) ? request : [request];
  if (first === undefined) throw new Error('cannon: no request to send');
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}${first.path}`,
        method: first.method,
        body: first.body,
        headers: first.headers,
        ...(more.length > 0 && { requests: [first, ...more] }),
        connections: CONNECTIONS,
        ...options,
      },
      (error, result) => (error ? reject(error) : resolve({ ...result, lastResponseAt })),
    );
    instance.on('response', () => (lastResponseAt = performance.now()));
  });
}

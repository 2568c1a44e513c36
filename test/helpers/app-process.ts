import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../admin/migrate.js';

export const ROOT = packageRoot();

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** An app started as a child process, the way users start theirs. */
export interface AppProcess {
  child: ChildProcess;
  /** Base URL, once the app printed `listening on <url>`. */
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface StartAppOptions {
  /** Extra env vars; OTEL_*, ANALYTICS_* and DATABASE_URL of the test process are not inherited. */
  env?: Record<string, string | undefined>;
  /** Start under `--import otel-pg-analytics/register` (default true). */
  register?: boolean;
  /** Extra node flags placed before the script. */
  nodeArgs?: string[];
  /** Arguments for the script. */
  args?: string[];
  /** Wait for a `listening on` line (default true). */
  waitForListening?: boolean;
  /**
   * A command to start the app under (e.g. `unshare`): Node and its arguments follow its own,
   * and it must exec them, so the child stays the app's process.
   */
  launcher?: string[];
  cwd?: string;
}

/** Apps still running: a test that fails before stopping its app must not leave it behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `script` (relative to the repository root) with Node, as `node --import ... script`. */
export async function startApp(script: string, options: StartAppOptions = {}): Promise<AppProcess> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(OTEL_|ANALYTICS_|DATABASE_URL$|NODE_OPTIONS$)/.test(key)) env[key] = value;
  }
  // A spool of the app's own (unless the test gives one), removed when the app is gone.
  const ownSpool = options.env?.OTEL_ANALYTICS_SPOOL_DIR === undefined;
  const spoolDir = ownSpool ? mkdtempSync(path.join(os.tmpdir(), 'pga-app-spool-')) : undefined;
  Object.assign(
    env,
    { PORT: '0', OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_ANALYTICS_SPOOL_DIR: spoolDir },
    options.env,
  );
  const args = [
    ...(options.register === false ? [] : ['--import', 'otel-pg-analytics/register']),
    ...(options.nodeArgs ?? []),
    path.resolve(ROOT, script),
    ...(options.args ?? []),
  ];
  const [command = process.execPath, ...launcherArgs] = options.launcher ?? [];
  const child = spawn(command, options.launcher ? [...launcherArgs, process.execPath, ...args] : args, {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  running.add(child);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  let url = '';
  if (options.waitForListening !== false) {
    url = await new Promise<string>((resolve, reject) => {
      const onData = (): void => {
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match) {
          child.stdout.off('data', onData);
          resolve(match[1]!);
        }
      };
      child.stdout.on('data', onData);
      void exited.then((exit) =>
        reject(new Error(`${script} exited before listening (${JSON.stringify(exit)}): ${stderr}`)),
      );
    });
  }
  return {
    child,
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

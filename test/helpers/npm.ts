import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from './app-process.js';

const run = promisify(execFile);

/** npm as the test runner was started with (`npm test` sets npm_execpath), else from PATH. */
export function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  const cli = process.env.npm_execpath;
  return cli && cli.endsWith('.js')
    ? run(process.execPath, [cli, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 })
    : run('npm', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Packs this package as `npm publish` would (dist/ must be fresh: `npm test` builds first, so
 * the prepack build is skipped) into `destination`; returns the tarball's path and file list.
 */
export async function packPackage(destination: string): Promise<{ tarball: string; files: string[] }> {
  const { stdout } = await npm(
    ['pack', '--ignore-scripts', '--json', '--pack-destination', destination],
    ROOT,
  );
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: `${destination}/${packed!.filename}`, files: packed!.files.map((f) => f.path) };
}

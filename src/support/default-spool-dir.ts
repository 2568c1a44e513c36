import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnvSnapshot } from '../env.js';

const NAME = 'otel-pg-analytics';

/**
 * The spool directory when none is configured: the process user's own, never a shared
 * world-writable place where another user could make it first and plant rows in it.
 *
 * Placed by `XDG_STATE_HOME` and `HOME` of `env` (a snapshot: see `readEnv`), and, for the home,
 * by a look at the file system, so it is computed when the config is resolved, never on import.
 *
 * 1. `$XDG_STATE_HOME/otel-pg-analytics`, when that variable holds an absolute path;
 * 2. else `~/.local/state/otel-pg-analytics` (the XDG default for state; without `HOME`, the
 *    home of the user database), when the home
 *    directory exists and the spool can be made in it: it outlives a crash, a restart of the
 *    service and a reboot, and no other user can write there;
 * 3. else (a container whose home is read-only, absent or `/`, not writable by its user)
 *    `<tmpdir>/otel-pg-analytics-<uid>`: outlives a crash and a restart (not a reboot that
 *    empties the tmpdir). Made `0700` and checked like any spool directory, so another user
 *    who made it first can switch the spool off (it is refused, with a warning) but cannot
 *    plant rows.
 */
export function defaultSpoolDir(env: EnvSnapshot): string {
  const state = env.XDG_STATE_HOME;
  if (state && path.isAbsolute(state)) return path.join(state, NAME);
  const home = env.HOME || homedir();
  if (home && path.isAbsolute(home) && isDirectory(home)) {
    const dir = path.join(home, '.local', 'state', NAME);
    if (canMake(dir, home)) return dir;
  }
  const uid = process.geteuid?.();
  return path.join(os.tmpdir(), uid === undefined ? NAME : `${NAME}-${uid}`);
}

/** Whether `dir` can be written, or made: its nearest existing folder, up to `root`, can be written. */
function canMake(dir: string, root: string): boolean {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      accessSync(at, constants.W_OK);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || at === root) return false;
    }
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** The user's home from the user database (`os.homedir()` would read `$HOME` itself). */
function homedir(): string {
  try {
    return os.userInfo().homedir;
  } catch {
    return '';
  }
}

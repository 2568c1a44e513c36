import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let checked: string[] | undefined;

/**
 * The command that runs what follows it in a mount namespace of its own, where it may mount a
 * tmpfs that no other process sees and that goes with it (a test that fails can leave no mount
 * behind): `unshare --mount` as root, else `unshare --user --map-root-user --mount` (a user
 * namespace where it is root). Tried once, mounting a tmpfs; throws, naming what is missing,
 * when this machine cannot, so a test that needs it fails saying why instead of skipping.
 */
export function mountNamespaceLauncher(): string[] {
  if (checked) return checked;
  const root = process.getuid?.() === 0;
  const launcher = ['unshare', ...(root ? ['--mount'] : ['--user', '--map-root-user', '--mount'])];
  const point = mkdtempSync(path.join(os.tmpdir(), 'pga-mount-check-'));
  try {
    const result = spawnSync(
      launcher[0]!,
      [...launcher.slice(1), 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1"', 'sh', point],
      { encoding: 'utf8' },
    );
    if ((result.error as { code?: unknown } | undefined)?.code === 'ENOENT') {
      throw new Error(
        'this test needs the `unshare` command (util-linux), which is not installed: install util-linux',
      );
    }
    if (result.error || result.status !== 0) {
      const said = (result.stderr || result.error?.message || `exit ${result.status}`).trim();
      throw new Error(
        `this test mounts a tmpfs in a mount namespace of its own, and \`${launcher.join(' ')}\` with \`mount -t tmpfs\` in it failed (${said}): ` +
          (root
            ? 'as root it needs CAP_SYS_ADMIN (a container started with --cap-add SYS_ADMIN or --privileged, and no seccomp profile refusing unshare)'
            : 'not as root it needs unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1 where that exists, kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu), or run it as root'),
      );
    }
  } finally {
    rmSync(point, { recursive: true, force: true });
  }
  checked = launcher;
  return launcher;
}

import { inspectSpool } from '../exporter/spool/inspect-spool.js';
import type { DoctorCheck } from './doctor-check.js';
import { formatBytes } from './format-bytes.js';

/**
 * Segments waiting in a spool directory, and folders the app would refuse to replay (another
 * user could have written them). Never throws: a spool it cannot read is a warning.
 */
export async function spoolCheck(dir: string): Promise<DoctorCheck> {
  try {
    const spool = await inspectSpool(dir);
    if (!spool.exists) {
      return { check: 'spool', status: 'ok', message: `${dir} does not exist: nothing was spooled there` };
    }
    if (spool.problem !== undefined) {
      const { path: refused, problem } = spool.problem;
      return {
        check: 'spool',
        status: 'fail',
        message: `${refused} ${problem}: the app refuses it (another user could put rows there, or choose where they come from), so rows Postgres cannot take are dropped instead of spooled`,
        fix:
          refused === dir
            ? `set OTEL_ANALYTICS_SPOOL_DIR to a directory (or the app user's own link to one); run doctor as the user the app runs as`
            : `other users can write ${dir}, so the app spools in ${refused}, which another user made first: remove it if it is not the app user's, or set OTEL_ANALYTICS_SPOOL_DIR to a directory only the app user can write; run doctor as the user the app runs as`,
      };
    }
    if (spool.spoolsIn === undefined) {
      return {
        check: 'spool',
        status: 'ok',
        message: `${dir}: nothing spooled (other users can write it, so the app spools in a folder of its own there, not made yet)`,
      };
    }
    const where =
      spool.spoolsIn === dir
        ? dir
        : `${spool.spoolsIn} (the app's own folder of ${dir}, which other users can write)`;
    const pending =
      spool.segments === 0
        ? `${where}: nothing pending (${plural(spool.instanceFolders, 'instance folder')})`
        : `${where}: ${plural(spool.segments, 'segment file')} (${formatBytes(spool.bytes)}) pending in ${spool.pendingFolders} of ${plural(spool.instanceFolders, 'instance folder')}`;
    if (spool.segments === 0 && spool.refused.length === 0) {
      return { check: 'spool', status: 'ok', message: pending };
    }
    const messages = [pending];
    const fixes: string[] = [];
    if (spool.segments > 0) {
      fixes.push(
        'these rows could not be written yet; the next process that starts with this spool dir and this database replays them (start one if none runs), and the pipeline check says why they were spooled',
      );
    }
    if (spool.refused.length > 0) {
      const shown = spool.refused.slice(0, 3).map((r) => `${r.path} ${r.problem}`);
      if (spool.refused.length > shown.length) shown.push('...');
      messages.push(`${plural(spool.refused.length, 'folder')} refused, never replayed: ${shown.join('; ')}`);
      fixes.push(
        "another user could have written the refused folders' rows: remove those that are not the app user's; make those that are its alone (chown, chmod go-w) to have them replayed",
      );
    }
    return { check: 'spool', status: 'warn', message: messages.join('; '), fix: fixes.join('; ') };
  } catch (error) {
    return {
      check: 'spool',
      status: 'warn',
      message: `cannot read the spool ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'run doctor as the user the app runs as, or check the path',
    };
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

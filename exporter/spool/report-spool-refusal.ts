import { createLogger } from '../../src/support/diag.js';
import type { RefusedSpoolPath } from './spool-path-problem.js';

/** Folders refused already: each is reported once per process, however often it is met. */
const reportedRefusals = new Set<string>();
const logger = createLogger('spool');

/** Says, once per process, that a spool folder is not replayed and why. */
export function reportSpoolRefusal(folder: string, refused: RefusedSpoolPath): void {
  if (reportedRefusals.has(folder)) return;
  reportedRefusals.add(folder);
  logger.warn(
    `not replaying the spool folder ${folder}: ${refused.path} ${refused.problem}, so another user could ` +
      `have written its rows, which are never read; remove it if it is not this user's, or, if it is, make ` +
      `it this user's alone (chown, chmod go-w) and restart to have it replayed`,
  );
}

import { createLogger } from '../../src/support/diag.js';
import type { RefusedSpoolPath } from './spool-path-problem.js';

/** At most this many refused folders are named; past it, one line says more were refused. */
export const MAX_REPORTED_REFUSALS = 256;

/** Folders refused already: each is reported once per process, however often it is met. */
const reportedRefusals = new Set<string>();
let moreRefused = false;
const logger = createLogger('spool');

/**
 * Says, once per process, that a spool folder is not replayed and why. Bounded: a spool parent
 * holding thousands of planted folders gets a warning for the first few hundred, then one line.
 */
export function reportSpoolRefusal(folder: string, refused: RefusedSpoolPath): void {
  if (reportedRefusals.has(folder)) return;
  if (reportedRefusals.size >= MAX_REPORTED_REFUSALS) {
    if (!moreRefused) {
      moreRefused = true;
      logger.warn(`more than ${MAX_REPORTED_REFUSALS} spool folders are refused; the others are not named`);
    }
    return;
  }
  reportedRefusals.add(folder);
  logger.warn(
    `not replaying the spool folder ${folder}: ${refused.path} ${refused.problem}, so another user could ` +
      `have written its rows, which are never read; remove it if it is not this user's, or, if it is, make ` +
      `it this user's alone (chown, chmod go-w) and restart to have it replayed`,
  );
}

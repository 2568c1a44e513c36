import type { DoctorCheck, DoctorCheckName } from './doctor-check.js';

/** What a check found, and what later checks need to know from it. */
export interface CheckOutcome<T = undefined> {
  checks: DoctorCheck[];
  value?: T;
}

/** Runs one check, adding what it found to `checks`; a check that throws is reported as failed. */
export async function runCheck<T>(
  checks: DoctorCheck[],
  name: DoctorCheckName,
  run: () => Promise<CheckOutcome<T>>,
): Promise<T | undefined> {
  try {
    const result = await run();
    checks.push(...result.checks);
    return result.value;
  } catch (error) {
    checks.push({
      check: name,
      status: 'fail',
      message: `the check could not run: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'run doctor again; if it persists, check the server log',
    });
    return undefined;
  }
}

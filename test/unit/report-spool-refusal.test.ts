import { afterEach, describe, expect, it } from 'vitest';
import { MAX_REPORTED_REFUSALS, reportSpoolRefusal } from '../../exporter/spool/report-spool-refusal.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';

describe('reportSpoolRefusal', () => {
  let capture: ReturnType<typeof captureDiagWarnings> | undefined;
  afterEach(() => capture?.stop());

  it('names each refused folder once, the first few hundred, then says once that there are more', () => {
    capture = captureDiagWarnings();
    const refused = { path: '/spool/x/lock', problem: 'is writable by others' };
    reportSpoolRefusal('/spool/planted-0', refused);
    reportSpoolRefusal('/spool/planted-0', refused);
    expect(capture.warnings).toHaveLength(1);
    expect(capture.warnings[0]).toContain('not replaying the spool folder /spool/planted-0');
    for (let i = 1; i < MAX_REPORTED_REFUSALS + 1000; i++) reportSpoolRefusal(`/spool/planted-${i}`, refused);
    expect(capture.warnings).toHaveLength(MAX_REPORTED_REFUSALS + 1);
    expect(capture.warnings.at(-1)).toContain(`more than ${MAX_REPORTED_REFUSALS} spool folders are refused`);
    // The folders named stay named once; the ones past the bound stay silent.
    reportSpoolRefusal('/spool/planted-1', refused);
    reportSpoolRefusal(`/spool/planted-${MAX_REPORTED_REFUSALS + 5}`, refused);
    expect(capture.warnings).toHaveLength(MAX_REPORTED_REFUSALS + 1);
  });
});

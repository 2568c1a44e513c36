import type pg from 'pg';
import { readApiSection } from './read-api-section.js';
import { readAuthSection } from './read-auth-section.js';
import { readExternalSection } from './read-external-section.js';
import type { ReportData, ReportRange } from './report-data.js';
import { planReport, type ReportReadOptions } from './report-plan.js';
import { ReportQueries } from './report-queries.js';

/**
 * Every query of a report, on `client` (inside the report's transaction). The whole hours of
 * the range come from the hourly rollups and the partial hours at its ends from raw rows
 * (exact, and a month costs about what a day does); see each section for what needs raw rows.
 */
export async function readReport(
  client: pg.ClientBase,
  range: ReportRange,
  bucketSeconds: number,
  options: ReportReadOptions,
): Promise<ReportData> {
  const q = new ReportQueries(client);
  const plan = planReport(range, bucketSeconds, options);
  return {
    range,
    bucketSeconds,
    generatedAt: new Date(),
    api: await readApiSection(q, plan),
    auth: await readAuthSection(q, plan),
    external: await readExternalSection(q, plan),
  };
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger, describeError } from './support/diag.js';

const logger = createLogger('config');

/**
 * Reads the file named by `OTEL_ANALYTICS_CONFIG`: JSON, or a JS module whose default export
 * is the options object. A missing or broken file gets one warning and is ignored (it is
 * outside input, like an env var), so the app still starts.
 */
export async function loadConfigFile(
  filePath: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  if (filePath === undefined || filePath.trim() === '') return undefined;
  const absolute = path.resolve(filePath.trim());
  try {
    let value: unknown;
    if (/\.(?:c|m)?js$/.test(absolute)) {
      const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
      value = module.default;
    } else {
      value = JSON.parse(await readFile(absolute, 'utf8'));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      logger.warn(`OTEL_ANALYTICS_CONFIG=${absolute} does not hold an options object; ignored`);
      return undefined;
    }
    return value as Record<string, unknown>;
  } catch (error) {
    logger.warn(`OTEL_ANALYTICS_CONFIG=${absolute} could not be read (${describeError(error)}); ignored`);
    return undefined;
  }
}

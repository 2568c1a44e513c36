import { checkNonEmptyString, checkNonNegativeNumber, checkStringList } from '../config/value-checks.js';
import type { ServiceDefinition } from './service-catalog.js';

/**
 * Checks the `services` option (from code or the config file): an array of service
 * definitions, each with a name and at least one host; `undefined` when any is invalid.
 */
export function checkServices(value: unknown): ServiceDefinition[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return (value as unknown[]).every(isServiceDefinition) ? (value as ServiceDefinition[]) : undefined;
}

function isServiceDefinition(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    checkNonEmptyString(d.name) !== undefined &&
    checkStringList(d.hosts) !== undefined &&
    (d.hosts as unknown[]).length > 0 &&
    (d.pathPrefix === undefined || typeof d.pathPrefix === 'string') &&
    (d.pathPattern === undefined || (typeof d.pathPattern === 'string' && d.pathPattern.startsWith('/'))) &&
    (d.methods === undefined || checkStringList(d.methods) !== undefined) &&
    (d.perRequestUsd === undefined || checkNonNegativeNumber(d.perRequestUsd) !== undefined) &&
    (d.perRecordUsd === undefined || checkNonNegativeNumber(d.perRecordUsd) !== undefined) &&
    (d.costModel === undefined ||
      d.costModel === 'per_request' ||
      d.costModel === 'per_record' ||
      d.costModel === 'subscription') &&
    (d.genAiProvider === undefined || typeof d.genAiProvider === 'string')
  );
}

import { readCallUsage, type CallUsage } from '../src/pricing/call-usage.js';
import { CALL_METADATA_KEYS } from './call-metadata-keys.js';

/**
 * The usage a stored external call reports, read from its row's `metadata` under the keys the
 * row mapping wrote it with, so a call is priced again from the same facts it was priced from.
 */
export function callUsageOfMetadata(metadata: Readonly<Record<string, unknown>>): CallUsage {
  return readCallUsage((attribute) => {
    const key = CALL_METADATA_KEYS[attribute];
    return key === undefined ? undefined : metadata[key];
  });
}

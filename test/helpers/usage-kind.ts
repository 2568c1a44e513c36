import type { CaptureKind } from '../../src/usage/token-usage.js';
import { usageEndpointOf } from '../../src/usage/usage-endpoint.js';

/** The capture of a POST to `path` of `provider` (which must be a billed operation). */
export function usageKind(provider: string, path: string): CaptureKind {
  const endpoint = usageEndpointOf(provider, 'POST', path);
  if (!endpoint) throw new Error(`not a billed operation: ${provider} ${path}`);
  return { kind: 'usage', provider, endpoint };
}

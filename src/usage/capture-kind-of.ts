import type { ServiceCatalog } from '../pricing/service-catalog.js';
import type { CaptureKind } from './token-usage.js';
import { usageEndpointOf } from './usage-endpoint.js';

/**
 * What to read from a call's response, by the service catalog: token usage for the billed
 * operations of the GenAI providers it knows (`gcp.gemini`, `openai`, `anthropic`...), records
 * for per-record priced downloads, nothing for the rest (their bodies are never touched).
 */
export function captureKindOf(
  catalog: ServiceCatalog,
  host: string,
  port: number | undefined,
  method: string,
  path: string,
): CaptureKind | undefined {
  const service = catalog.match(host, port, path, method);
  if (service?.perRecordUsd !== undefined) return { kind: 'records' };
  const provider = service?.genAiProvider;
  if (provider === undefined) return undefined;
  const endpoint = usageEndpointOf(provider, method, path);
  return endpoint && { kind: 'usage', provider, endpoint };
}

import type { ServiceCatalog } from '../pricing/service-catalog.js';
import { USAGE_PROVIDERS } from './extract-usage.js';
import type { CaptureKind } from './token-usage.js';

/**
 * What to read from a call's response, by the service catalog: token usage for the GenAI
 * providers it knows (`gcp.gemini`, `openai`, `anthropic`...), records for per-record priced
 * services, nothing for the rest (their bodies are never touched).
 */
export function captureKindOf(
  catalog: ServiceCatalog,
  host: string,
  port: number | undefined,
  path: string,
): CaptureKind | undefined {
  const service = catalog.match(host, port, path);
  if (service?.perRecordUsd !== undefined) return { kind: 'records' };
  const provider = service?.genAiProvider;
  return provider !== undefined && USAGE_PROVIDERS.has(provider) ? { kind: 'usage', provider } : undefined;
}

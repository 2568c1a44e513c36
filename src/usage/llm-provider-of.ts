import type { ServiceCatalog } from '../pricing/service-catalog.js';
import { USAGE_PROVIDERS } from './extract-usage.js';

/**
 * The GenAI provider whose usage a call's response carries (`gcp.gemini`, `openai`,
 * `anthropic`...), by the service catalog, or `undefined` for calls not read for usage.
 */
export function llmProviderOf(
  catalog: ServiceCatalog,
  host: string,
  port: number | undefined,
  path: string,
): string | undefined {
  const provider = catalog.match(host, port, path)?.genAiProvider;
  return provider !== undefined && USAGE_PROVIDERS.has(provider) ? provider : undefined;
}

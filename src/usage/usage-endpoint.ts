import { safeDecodeURIComponent } from '../privacy/safe-decode-uri-component.js';

/** Which wire format a response is read as: the provider's own, or one it imitates. */
export type UsageFormat = 'gemini' | 'openai' | 'anthropic';

/** An LLM API operation whose response reports the token usage it is billed by. */
export interface UsageEndpoint {
  format: UsageFormat;
  /** OTel `gen_ai.operation.name`: `generate_content`, `chat`, `embeddings`, `count_tokens`. */
  operation: string;
  /** The model asked for, when the URL names it (Gemini, Vertex). */
  requestModel?: string;
  /** Not billed (counting tokens): the body need not be read. */
  free?: boolean;
}

// `…/models/{model}:{method}`: Gemini API, and Vertex `…/publishers/{publisher}/models/…`.
const MODEL_METHOD = /\/(?:publishers\/([^/]+)\/)?(?:models|tunedModels)\/([^/:]+):([A-Za-z]+)$/;

/**
 * The billed operation a call is, by its provider, method and path; `undefined` for every other
 * call to the provider (listing models, fetching a stored response, uploading files, batches),
 * whose bodies are not read, so a `usage` or `model` field in them is never taken for a bill.
 * Paths are matched by their end, so the same operation behind a proxy's prefix is found too.
 */
export function usageEndpointOf(provider: string, method: string, path: string): UsageEndpoint | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  switch (provider) {
    case 'gcp.gemini':
    case 'gcp.vertex_ai':
    case 'gcp.gen_ai':
      return googleEndpoint(path);
    case 'openai':
      return openAiEndpoint(path);
    case 'anthropic':
      return anthropicEndpoint(path);
    default:
      return undefined;
  }
}

function googleEndpoint(path: string): UsageEndpoint | undefined {
  const match = MODEL_METHOD.exec(path);
  if (match) {
    const publisher = match[1];
    const model = safeDecodeURIComponent(match[2]!);
    const verb = match[3]!;
    if (publisher === 'anthropic') {
      // Claude on Vertex: Anthropic's Messages format behind `rawPredict`.
      if (model === 'count-tokens') return { format: 'anthropic', operation: 'count_tokens', free: true };
      return verb === 'rawPredict' || verb === 'streamRawPredict'
        ? { format: 'anthropic', operation: 'chat', requestModel: model }
        : undefined;
    }
    if (publisher !== undefined && publisher !== 'google') return undefined;
    switch (verb) {
      case 'generateContent':
      case 'streamGenerateContent':
        return { format: 'gemini', operation: 'generate_content', requestModel: model };
      case 'countTokens':
      case 'computeTokens':
        return { format: 'gemini', operation: 'count_tokens', requestModel: model, free: true };
      case 'embedContent':
      case 'batchEmbedContents':
        return { format: 'gemini', operation: 'embeddings', requestModel: model };
      default:
        return undefined;
    }
  }
  // The OpenAI-compatible surfaces: Gemini `/v1beta/openai/…`, Vertex `…/endpoints/openapi/…`.
  return /\/(?:openai|openapi)\//.test(path) ? openAiEndpoint(path) : undefined;
}

function openAiEndpoint(path: string): UsageEndpoint | undefined {
  if (path.endsWith('/chat/completions') || path.endsWith('/responses'))
    return { format: 'openai', operation: 'chat' };
  if (path.endsWith('/completions')) return { format: 'openai', operation: 'text_completion' };
  if (path.endsWith('/embeddings')) return { format: 'openai', operation: 'embeddings' };
  return undefined;
}

function anthropicEndpoint(path: string): UsageEndpoint | undefined {
  if (path.endsWith('/messages/count_tokens'))
    return { format: 'anthropic', operation: 'count_tokens', free: true };
  if (path.endsWith('/messages')) return { format: 'anthropic', operation: 'chat' };
  return undefined;
}

import type { UsageEndpoint } from './usage-endpoint.js';

/**
 * Token usage of one LLM call, as OpenTelemetry counts it: input includes cache reads and
 * writes (and Gemini's tool-use prompt), output includes reasoning/thinking tokens.
 */
export interface TokenUsage {
  /** OTel `gen_ai.operation.name`: `generate_content`, `chat`, `embeddings`, `count_tokens`. */
  operation: string;
  /** The model asked for, when the URL names it (Gemini, Vertex). */
  requestModel?: string;
  /** The model that answered (`modelVersion`, `model`): what is priced. */
  responseModel?: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Of the cache writes, those kept for an hour (Anthropic prices them higher). */
  cacheWrite1hTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** `flex`, `priority`, `batch`... when the response says (it changes the price). */
  serviceTier?: string;
  /** Requests the provider does not bill (counting tokens). */
  free?: boolean;
  /** The body ended early (an aborted stream): counts are what arrived. */
  incomplete?: boolean;
}

/** What reading a response gave: usage, or why there is none. */
export type UsageResult = { usage: TokenUsage } | { reason: string };

/** What reading a dataset download gave: its record count, or why there is none. */
export type RecordsResult = { records: number } | { reason: string };

/** What a capture reads from a response: token usage (LLM APIs) or records (dataset APIs). */
export type CaptureKind = { kind: 'usage'; provider: string; endpoint: UsageEndpoint } | { kind: 'records' };

/** A field-wise maximum: streams repeat running or cumulative totals, and the largest is final. */
export function maxCount(values: (number | undefined)[]): number {
  let max = 0;
  for (const value of values) if (value !== undefined && value > max) max = value;
  return max;
}

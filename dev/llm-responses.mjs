// @ts-check
/**
 * Response bodies shaped as the providers document them (Gemini `usageMetadata`, OpenAI
 * `usage`, Anthropic `usage` and its streamed `message_start` / `message_delta` events), for
 * the local stubs and the tests. Token counts are given; text is filler.
 */

/**
 * @typedef {{ prompt: number, cached?: number, candidates: number, thoughts?: number, toolUse?: number }} GeminiCounts
 * @typedef {{ prompt: number, cached?: number, completion: number, reasoning?: number }} OpenAiCounts
 * @typedef {{ input: number, cacheRead?: number, cacheWrite5m?: number, cacheWrite1h?: number, output: number }} AnthropicCounts
 */

/** @param {GeminiCounts} c */
function geminiUsage(c) {
  return {
    promptTokenCount: c.prompt,
    candidatesTokenCount: c.candidates,
    totalTokenCount: c.prompt + c.candidates + (c.thoughts ?? 0) + (c.toolUse ?? 0),
    ...(c.cached !== undefined && { cachedContentTokenCount: c.cached }),
    ...(c.thoughts !== undefined && { thoughtsTokenCount: c.thoughts }),
    ...(c.toolUse !== undefined && { toolUsePromptTokenCount: c.toolUse }),
  };
}

/** A `generateContent` response. @param {string} modelVersion @param {GeminiCounts} counts */
export function geminiResponse(modelVersion, counts, text = 'A short answer.') {
  return JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: geminiUsage(counts),
    modelVersion,
    responseId: 'stub-response',
  });
}

/**
 * The chunks of a `streamGenerateContent` response: running usage totals, early chunks with
 * prompt counts only, and a last chunk with usage but no text (as Gemini 3 sends).
 * @param {string} modelVersion @param {GeminiCounts} counts @param {number} parts
 */
export function geminiStreamChunks(modelVersion, counts, parts = 3) {
  /** @type {object[]} */
  const chunks = [];
  for (let i = 1; i <= parts; i++) {
    const partial =
      i === 1
        ? { promptTokenCount: counts.prompt, totalTokenCount: counts.prompt }
        : geminiUsage({ ...counts, candidates: Math.floor((counts.candidates * i) / (parts + 1)) });
    chunks.push({
      candidates: [{ content: { role: 'model', parts: [{ text: `part ${i} ` }] }, index: 0 }],
      usageMetadata: partial,
      modelVersion,
    });
  }
  chunks.push({
    candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: geminiUsage(counts),
    modelVersion,
  });
  return chunks;
}

/** As a JSON array (no `alt=sse`). @param {object[]} chunks */
export function asJsonArray(chunks) {
  return `[${chunks.map((c) => JSON.stringify(c)).join(',\r\n')}]`;
}

/** As server-sent events (`alt=sse`, OpenAI and Anthropic streams). @param {object[]} events @param {string[]} [names] */
export function asSse(events, names) {
  return events
    .map((e, i) => `${names?.[i] ? `event: ${names[i]}\n` : ''}data: ${JSON.stringify(e)}\n\n`)
    .join('');
}

/** A chat completion. @param {string} model @param {OpenAiCounts} c */
export function openAiChatResponse(model, c, serviceTier = 'default') {
  return JSON.stringify({
    id: 'chatcmpl-stub',
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: c.prompt,
      completion_tokens: c.completion,
      total_tokens: c.prompt + c.completion,
      prompt_tokens_details: { cached_tokens: c.cached ?? 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: c.reasoning ?? 0, audio_tokens: 0 },
    },
    service_tier: serviceTier,
  });
}

/**
 * A streamed chat completion with `stream_options.include_usage`: every chunk has
 * `usage: null`, then a last chunk with no choices carries the usage.
 * @param {string} model @param {OpenAiCounts} c
 */
export function openAiChatStreamEvents(model, c) {
  const chunk = (/** @type {object} */ delta) => ({
    id: 'chatcmpl-stub',
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta }],
    usage: null,
  });
  return [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Hel' }),
    chunk({ content: 'lo!' }),
    {
      id: 'chatcmpl-stub',
      object: 'chat.completion.chunk',
      model,
      choices: [],
      usage: JSON.parse(openAiChatResponse(model, c)).usage,
    },
  ];
}

/** A Responses API response. @param {string} model @param {OpenAiCounts} c */
export function openAiResponsesResponse(model, c) {
  return JSON.stringify({
    id: 'resp_stub',
    object: 'response',
    model,
    output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.' }] }],
    usage: {
      input_tokens: c.prompt,
      input_tokens_details: { cached_tokens: c.cached ?? 0 },
      output_tokens: c.completion,
      output_tokens_details: { reasoning_tokens: c.reasoning ?? 0 },
      total_tokens: c.prompt + c.completion,
    },
  });
}

/** @param {AnthropicCounts} c */
function anthropicUsage(c) {
  return {
    input_tokens: c.input,
    cache_creation_input_tokens: (c.cacheWrite5m ?? 0) + (c.cacheWrite1h ?? 0),
    cache_read_input_tokens: c.cacheRead ?? 0,
    cache_creation: {
      ephemeral_5m_input_tokens: c.cacheWrite5m ?? 0,
      ephemeral_1h_input_tokens: c.cacheWrite1h ?? 0,
    },
    output_tokens: c.output,
    service_tier: 'standard',
  };
}

/** A Messages API response. @param {string} model @param {AnthropicCounts} c */
export function anthropicResponse(model, c) {
  return JSON.stringify({
    id: 'msg_stub',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'Hello!' }],
    stop_reason: 'end_turn',
    usage: anthropicUsage(c),
  });
}

/**
 * A streamed Messages response: `message_start` holds input and cache counts (and a small
 * output count), each `message_delta` the cumulative output count.
 * @param {string} model @param {AnthropicCounts} c
 */
export function anthropicStream(model, c) {
  const events = [
    {
      type: 'message_start',
      message: {
        id: 'msg_stub',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        usage: { ...anthropicUsage(c), output_tokens: 1 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: null },
      usage: { output_tokens: Math.floor(c.output / 2) },
    },
    { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: c.output } },
    { type: 'message_stop' },
  ];
  return asSse(
    events,
    events.map((e) => e.type),
  );
}

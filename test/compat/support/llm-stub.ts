import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import {
  anthropicResponse,
  anthropicStream,
  asSse,
  geminiResponse,
  geminiStreamChunks,
  openAiChatResponse,
  openAiChatStreamEvents,
} from '../../../dev/llm-responses.mjs';
import type { ServiceDefinition } from '../../../src/pricing/service-catalog.js';

/** Token counts every successful answer reports, so a test can price them from the table. */
export const LLM_STUB_USAGE = Object.freeze({
  openai: { prompt: 250, cached: 100, completion: 40, reasoning: 0 },
  anthropic: { input: 200, cacheRead: 1000, cacheWrite5m: 300, cacheWrite1h: 100, output: 60 },
  gemini: { prompt: 120, cached: 20, candidates: 30, thoughts: 50 },
});

/** Fake keys the stub insists on: a test then searches the database for each of them. */
export const FAKE_KEYS = Object.freeze({
  openai: 'sk-test-openai-5f1c9a7e3b2d4c6a8e0f',
  anthropic: 'sk-ant-test-anthropic-9d8c7b6a5f4e3d2c',
  gemini: 'AIzaTest-gemini-7a6b5c4d3e2f1a0b9c8d',
});

/** The suffix the stub adds to the model asked for, as providers answer with a dated snapshot. */
export const OPENAI_MODEL_SUFFIX = '-2025-04-14';
export const ANTHROPIC_MODEL_SUFFIX = '-20251001';

/** One request the stub received. */
export interface StubRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** Request headers, lower-cased. */
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  status: number;
  /** Body bytes sent back, as on the wire (compressed when it was). */
  responseBytes: number;
}

export interface LlmStub {
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: StubRequest[];
  /** Catalog entries naming the stub's `/openai/`, `/anthropic/`, `/gemini/` paths as those services. */
  services(): ServiceDefinition[];
  close(): Promise<void>;
}

/**
 * A local stand-in for OpenAI, Anthropic and Gemini (and a plain JSON API), at
 * `/<provider>/<label>.<mode>/<the provider's own path>`: an SDK's `baseURL` ends with
 * `/<provider>/<label>.<mode>` (plus `/v1` or `/v1beta` where the SDK expects it). `label`
 * names the call; `mode` says how the stub answers it:
 * - `ok`: 200 with usage, streamed when the request asks for a stream (gzip when accepted);
 * - `retry`: 429 (`retry-after: 0`) the first time a path is seen, then as `ok`;
 * - `flaky`: 503 (`retry-after: 0`) the first time, then as `ok`;
 * - `fail`: 400, every time (no SDK retries it).
 * The provider keys must arrive (as `FAKE_KEYS`): a request without one is answered 401.
 * `/plain/<label>.<mode>/...` answers a small JSON document (GET) or the size of the body it got
 * (other methods), with a Content-Length, for the HTTP clients. Provider answers are chunked.
 */
export async function startLlmStub(): Promise<LlmStub> {
  const requests: StubRequest[] = [];
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://stub');
      const record: StubRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        bodyBytes: body.length,
        status: 0,
        responseBytes: 0,
      };
      requests.push(record);
      const match = /^\/(openai|anthropic|gemini|plain)\/([^/]+)\.(ok|retry|flaky|fail)(\/.*)$/.exec(
        url.pathname,
      );
      const [, provider = '', , mode = '', rest = ''] = match ?? [];
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const send = (status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void => {
        const bytes = gzip ? zlib.gzipSync(text) : Buffer.from(text);
        record.status = status;
        record.responseBytes = bytes.length;
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(gzip && { 'content-encoding': 'gzip' }),
          // Plain APIs declare their length; the LLM stubs answer chunked, as streams are.
          ...(provider === 'plain' && { 'content-length': bytes.length }),
          ...headers,
        });
        res.end(bytes);
      };
      const sendStream = (text: string): void => {
        record.status = 200;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          ...(gzip && { 'content-encoding': 'gzip' }),
        });
        // In pieces that split events, as they arrive on the wire.
        const bytes = gzip ? zlib.gzipSync(text) : Buffer.from(text);
        record.responseBytes = bytes.length;
        const cut = Math.floor(bytes.length / 3);
        res.write(bytes.subarray(0, cut));
        res.write(bytes.subarray(cut, 2 * cut));
        res.end(bytes.subarray(2 * cut));
      };

      if (!match) return send(404, JSON.stringify({ error: 'no such stub' }));
      const request = parseJson(body.toString('utf8'));
      if (provider !== 'plain' && !hasKey(provider, req.headers)) {
        return send(401, errorBody(provider, 401, 'missing or wrong API key'));
      }
      const first = !seen.has(url.pathname);
      seen.add(url.pathname);
      if (mode === 'fail') return send(400, errorBody(provider, 400, 'the stub refuses this request'));
      if (mode === 'retry' && first) {
        return send(429, errorBody(provider, 429, 'rate limited'), {
          'retry-after': '0',
          'retry-after-ms': '10',
        });
      }
      if (mode === 'flaky' && first) {
        return send(503, errorBody(provider, 503, 'overloaded'), { 'retry-after': '0' });
      }

      if (provider === 'plain') {
        if (req.method === 'GET') return send(200, JSON.stringify({ items: [1, 2, 3], path: rest }));
        return send(201, JSON.stringify({ received: body.length }));
      }
      if (provider === 'openai' && rest.endsWith('/chat/completions')) {
        const model = `${stringField(request, 'model', 'gpt-4o-mini')}${OPENAI_MODEL_SUFFIX}`;
        if (request.stream === true) {
          // Usage only when asked for, as OpenAI does.
          const events = openAiChatStreamEvents(model, LLM_STUB_USAGE.openai) as object[];
          const asked = (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
          return sendStream(`${asSse(asked ? events : events.slice(0, -1))}data: [DONE]\n\n`);
        }
        return send(200, openAiChatResponse(model, LLM_STUB_USAGE.openai));
      }
      if (provider === 'openai' && rest.endsWith('/responses')) {
        const model = `${stringField(request, 'model', 'gpt-4.1')}${OPENAI_MODEL_SUFFIX}`;
        if (request.stream === true) return sendStream(responsesStream(model));
        return send(200, JSON.stringify(responsesObject(model, 'completed')));
      }
      if (provider === 'anthropic' && rest.endsWith('/messages')) {
        const model = `${stringField(request, 'model', 'claude-haiku-4-5')}${ANTHROPIC_MODEL_SUFFIX}`;
        if (request.stream === true) return sendStream(anthropicStream(model, LLM_STUB_USAGE.anthropic));
        return send(200, anthropicResponse(model, LLM_STUB_USAGE.anthropic));
      }
      const gemini = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(rest);
      if (provider === 'gemini' && gemini) {
        const [, model = '', method] = gemini;
        if (method === 'generateContent') return send(200, geminiResponse(model, LLM_STUB_USAGE.gemini));
        const chunks = geminiStreamChunks(model, LLM_STUB_USAGE.gemini);
        if (url.searchParams.get('alt') === 'sse') return sendStream(asSse(chunks));
        return sendStream(`[${chunks.map((c) => JSON.stringify(c)).join(',\r\n')}]`);
      }
      return send(404, errorBody(provider, 404, `no stub for ${rest}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    port,
    requests,
    services: () => [
      { name: 'openai', hosts: [host], pathPrefix: '/openai/', genAiProvider: 'openai' },
      { name: 'anthropic', hosts: [host], pathPrefix: '/anthropic/', genAiProvider: 'anthropic' },
      { name: 'gemini', hosts: [host], pathPrefix: '/gemini/', genAiProvider: 'gcp.gemini' },
    ],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function hasKey(provider: string, headers: http.IncomingHttpHeaders): boolean {
  switch (provider) {
    case 'openai':
      return headers.authorization === `Bearer ${FAKE_KEYS.openai}`;
    case 'anthropic':
      // The SDK sends `Authorization: Bearer`, other clients `x-api-key`.
      return (
        headers['x-api-key'] === FAKE_KEYS.anthropic ||
        headers.authorization === `Bearer ${FAKE_KEYS.anthropic}`
      );
    default:
      return headers['x-goog-api-key'] === FAKE_KEYS.gemini;
  }
}

/** An error body in the provider's own shape. */
function errorBody(provider: string, status: number, message: string): string {
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  if (provider === 'anthropic') return JSON.stringify({ type: 'error', error: { type, message } });
  if (provider === 'gemini') {
    const statusName =
      status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT';
    return JSON.stringify({ error: { code: status, message, status: statusName } });
  }
  return JSON.stringify({ error: { message, type, param: null, code: null } });
}

/** A Responses API object, as returned whole and inside the stream's `response.*` events. */
function responsesObject(model: string, status: 'in_progress' | 'completed'): Record<string, unknown> {
  const o = LLM_STUB_USAGE.openai;
  const done = status === 'completed';
  return {
    id: 'resp_stub',
    object: 'response',
    created_at: 1767225600,
    status,
    model,
    output: done ? [messageItem('completed')] : [],
    service_tier: 'default',
    usage: done
      ? {
          input_tokens: o.prompt,
          input_tokens_details: { cached_tokens: o.cached },
          output_tokens: o.completion,
          output_tokens_details: { reasoning_tokens: o.reasoning },
          total_tokens: o.prompt + o.completion,
        }
      : null,
  };
}

function messageItem(status: 'in_progress' | 'completed'): Record<string, unknown> {
  return {
    id: 'msg_stub',
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text: 'Hi.', annotations: [] }] : [],
  };
}

/** A streamed Responses API answer: usage arrives in the last event, `response.completed`. */
function responsesStream(model: string): string {
  const part = { item_id: 'msg_stub', output_index: 0, content_index: 0 };
  const events: Record<string, unknown>[] = [
    { type: 'response.created', response: responsesObject(model, 'in_progress') },
    { type: 'response.in_progress', response: responsesObject(model, 'in_progress') },
    { type: 'response.output_item.added', output_index: 0, item: messageItem('in_progress') },
    {
      type: 'response.content_part.added',
      ...part,
      part: { type: 'output_text', text: '', annotations: [] },
    },
    { type: 'response.output_text.delta', ...part, delta: 'Hi', logprobs: [] },
    { type: 'response.output_text.delta', ...part, delta: '.', logprobs: [] },
    { type: 'response.output_text.done', ...part, text: 'Hi.', logprobs: [] },
    {
      type: 'response.content_part.done',
      ...part,
      part: { type: 'output_text', text: 'Hi.', annotations: [] },
    },
    { type: 'response.output_item.done', output_index: 0, item: messageItem('completed') },
    { type: 'response.completed', response: responsesObject(model, 'completed') },
  ];
  return events
    .map(
      (event, i) =>
        `event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: i })}\n\n`,
    )
    .join('');
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function stringField(object: Record<string, unknown>, key: string, fallback: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : fallback;
}

// @ts-check
/**
 * Local stand-ins for the external APIs the example apps call (nothing leaves the machine):
 * Gemini (`generateContent`, `streamGenerateContent` as a JSON array or with `alt=sse`,
 * `countTokens`), OpenAI (chat completions, streamed with usage, and the Responses API),
 * Anthropic (messages, streamed or not), BrightData's `/request` and a Supabase-style REST
 * read. Bodies follow the providers' documented shapes; they are gzip-compressed when the
 * client accepts it, as the real APIs do. Run it alone with `node examples/stub-apis.mjs [port]`.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import {
  anthropicResponse,
  anthropicStream,
  asJsonArray,
  asSse,
  geminiResponse,
  geminiStreamChunks,
  openAiChatResponse,
  openAiChatStreamEvents,
  openAiResponsesResponse,
} from '../dev/llm-responses.mjs';

/** Records a stub dataset snapshot holds. */
export const STUB_RECORDS = 37;

/** Token counts the stubs answer with, so tests can compute the expected cost. */
export const STUB_USAGE = Object.freeze({
  gemini: { prompt: 120, cached: 20, candidates: 30, thoughts: 50 },
  openai: { prompt: 250, cached: 100, completion: 40, reasoning: 0 },
  anthropic: { input: 200, cacheRead: 1000, cacheWrite5m: 300, cacheWrite1h: 100, output: 60 },
});

/**
 * @param {{ port?: number, host?: string }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function startStubApis(options = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      // A stream cut off goes out uncompressed, so what arrived can be read; a big body too, so
      // it really is big on the wire.
      const gzip =
        /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) &&
        !url.searchParams.has('truncate') &&
        !url.searchParams.has('big');
      const request = safeJson(body) ?? {};
      /** @param {number} status @param {string} text @param {string} [type] */
      const send = (status, text, type = 'application/json') => {
        const headers = { 'content-type': type, ...(gzip && { 'content-encoding': 'gzip' }) };
        res.writeHead(status, headers);
        res.end(gzip ? zlib.gzipSync(text) : text);
      };
      /** @param {string} text */
      const sendStream = (text) => {
        // Streams go out in pieces that split events, as they would on the wire.
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          ...(gzip && { 'content-encoding': 'gzip' }),
        });
        const bytes = gzip ? zlib.gzipSync(text) : Buffer.from(text);
        const cut = Math.floor(bytes.length / 3);
        res.write(bytes.subarray(0, cut));
        res.write(bytes.subarray(cut, 2 * cut));
        // Cut off mid-stream: what was written is delivered, then the connection closes.
        if (url.searchParams.has('truncate')) return void res.socket?.end();
        res.end(bytes.subarray(2 * cut));
      };

      const gemini = /^\/v1beta\/models\/([^:]+):(\w+)$/.exec(url.pathname);
      if (gemini) {
        const [, model = '', method] = gemini;
        if (!url.searchParams.get('key') && !req.headers['x-goog-api-key']) {
          return send(403, JSON.stringify({ error: { message: 'API key missing' } }));
        }
        if (method === 'countTokens') return send(200, JSON.stringify({ totalTokens: 42 }));
        if (method === 'generateContent' && url.searchParams.has('big')) {
          // Larger than any socket buffer: it stays in flight until the client reads it.
          return send(200, geminiResponse(model, STUB_USAGE.gemini, 'x'.repeat(8 * 1024 * 1024)));
        }
        if (method === 'generateContent') return send(200, geminiResponse(model, STUB_USAGE.gemini));
        if (method === 'streamGenerateContent') {
          const chunks = geminiStreamChunks(model, STUB_USAGE.gemini);
          return url.searchParams.get('alt') === 'sse'
            ? sendStream(asSse(chunks))
            : sendStream(asJsonArray(chunks));
        }
      }
      if (url.pathname === '/v1/chat/completions') {
        const model = `${String(request.model ?? 'gpt-4o-mini')}-2024-07-18`;
        if (request.stream)
          return sendStream(`${asSse(openAiChatStreamEvents(model, STUB_USAGE.openai))}data: [DONE]\n\n`);
        return send(
          200,
          openAiChatResponse(model, STUB_USAGE.openai, String(request.service_tier ?? 'default')),
        );
      }
      if (url.pathname === '/v1/responses') {
        return send(200, openAiResponsesResponse(String(request.model ?? 'gpt-4.1'), STUB_USAGE.openai));
      }
      if (url.pathname === '/v1/messages') {
        const model = `${String(request.model ?? 'claude-sonnet-4-5')}-20250929`;
        if (request.stream) return sendStream(anthropicStream(model, STUB_USAGE.anthropic));
        return send(200, anthropicResponse(model, STUB_USAGE.anthropic));
      }
      if (url.pathname === '/request' && req.method === 'POST') {
        // Like BrightData's Web Unlocker: a failed unlock is a 502 (and is not billed).
        const target = String(request.url ?? '');
        if (target.includes('blocked')) return send(502, JSON.stringify({ error: 'unlock failed' }));
        return send(200, `<html><body>page for ${target.slice(0, 100)}</body></html>`, 'text/html');
      }
      if (url.pathname.startsWith('/datasets/v3/snapshot/')) {
        // A BrightData snapshot download: one record per scraped page.
        const records = Array.from({ length: STUB_RECORDS }, (_, i) => ({
          url: `https://shop.example/p/${i}`,
          title: `Item ${i}, [sale]`,
        }));
        if (url.searchParams.get('format') === 'ndjson') {
          return send(200, records.map((r) => JSON.stringify(r)).join('\n'), 'application/x-ndjson');
        }
        return send(200, JSON.stringify(records));
      }
      if (url.pathname.startsWith('/functions/v1/')) return send(200, JSON.stringify({ ok: true }));
      if (url.pathname.startsWith('/rest/v1/')) return send(200, JSON.stringify([{ id: 1, name: 'row' }]));
      return send(404, JSON.stringify({ error: 'no such stub' }));
    });
  });
  await new Promise((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(undefined)),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The fields of an SDK's request body that the stubs read.
 * @typedef {{ model?: string, stream?: boolean, service_tier?: string, url?: string }} StubRequest
 */

/** @param {string} text @returns {StubRequest | undefined} */
function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The service catalog entries that name the stub's paths as the real services would be
 * named, so the example rows say `gemini`, `openai`, `anthropic`, `brightdata`, `supabase`.
 * @param {number} port
 */
export function stubServices(port) {
  const host = `127.0.0.1:${port}`;
  return [
    { name: 'gemini', hosts: [host], pathPrefix: '/v1beta/', genAiProvider: 'gcp.gemini' },
    { name: 'openai', hosts: [host], pathPrefix: '/v1/chat/', genAiProvider: 'openai' },
    { name: 'openai', hosts: [host], pathPrefix: '/v1/responses', genAiProvider: 'openai' },
    { name: 'anthropic', hosts: [host], pathPrefix: '/v1/messages', genAiProvider: 'anthropic' },
    {
      name: 'brightdata',
      hosts: [host],
      pathPrefix: '/request',
      perRequestUsd: 0.0015,
      costModel: 'per_request',
    },
    {
      name: 'brightdata',
      hosts: [host],
      methods: ['GET'],
      pathPattern: '/datasets/v3/snapshot/*',
      perRecordUsd: 0.0015,
      costModel: 'per_record',
    },
    { name: 'supabase', hosts: [host], pathPrefix: '/rest/v1/', perRequestUsd: 0, costModel: 'subscription' },
    {
      name: 'supabase',
      hosts: [host],
      pathPrefix: '/functions/v1/',
      perRequestUsd: 0,
      costModel: 'subscription',
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stub = await startStubApis({ port: Number(process.argv[2] ?? 4010) });
  process.stdout.write(`stub APIs listening on ${stub.url}\n`);
}

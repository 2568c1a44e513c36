// @ts-check
/**
 * Local stand-ins for the external APIs the example apps call (nothing leaves the machine):
 * a Gemini-style `generateContent`, an OpenAI-style chat completion, BrightData's `/request`
 * and a Supabase-style REST read. Run it alone with `node examples/stub-apis.mjs [port]`.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';

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
      const reply = (/** @type {number} */ status, /** @type {unknown} */ value) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.pathname.startsWith('/v1beta/models/') && url.pathname.endsWith(':generateContent')) {
        if (!url.searchParams.get('key')) return reply(403, { error: { message: 'API key missing' } });
        const prompt = body.length;
        return reply(200, {
          candidates: [{ content: { role: 'model', parts: [{ text: 'A short summary.' }] } }],
          usageMetadata: {
            promptTokenCount: 20 + prompt,
            candidatesTokenCount: 12,
            totalTokenCount: 32 + prompt,
          },
          modelVersion: 'gemini-2.5-flash',
        });
      }
      if (url.pathname === '/v1/chat/completions') {
        return reply(200, {
          id: 'chatcmpl-stub',
          model: 'gpt-4o-mini-2024-07-18',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' } }],
          usage: { prompt_tokens: 25, completion_tokens: 5, total_tokens: 30 },
        });
      }
      if (url.pathname === '/request' && req.method === 'POST') {
        // Like BrightData's Web Unlocker: a failed unlock is a 502 (and is not billed).
        const target = safeJson(body)?.url ?? '';
        if (String(target).includes('blocked')) return reply(502, { error: 'unlock failed' });
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end(`<html><body>page for ${String(target).slice(0, 100)}</body></html>`);
      }
      if (url.pathname.startsWith('/rest/v1/')) return reply(200, [{ id: 1, name: 'row' }]);
      return reply(404, { error: 'no such stub' });
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

/** @param {string} text */
function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The service catalog entries that name the stub's paths as the real services would be
 * named, so the example rows say `gemini`, `openai`, `brightdata`, `supabase`.
 * @param {number} port
 */
export function stubServices(port) {
  const host = `127.0.0.1:${port}`;
  return [
    { name: 'gemini', hosts: [host], pathPrefix: '/v1beta/', genAiProvider: 'gcp.gemini' },
    { name: 'openai', hosts: [host], pathPrefix: '/v1/chat/', genAiProvider: 'openai' },
    {
      name: 'brightdata',
      hosts: [host],
      pathPrefix: '/request',
      perRequestUsd: 0.0015,
      costModel: 'per_request',
    },
    { name: 'supabase', hosts: [host], pathPrefix: '/rest/v1/', perRequestUsd: 0, costModel: 'subscription' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stub = await startStubApis({ port: Number(process.argv[2] ?? 4010) });
  process.stdout.write(`stub APIs listening on ${stub.url}\n`);
}

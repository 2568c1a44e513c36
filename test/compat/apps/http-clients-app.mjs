// An app whose request handlers call a JSON API (the stub at STUB_URL) with the HTTP clients
// people use. GET /call?client=<client>&op=<op> sets the request's user, makes the call and
// answers 200 with what came back, or 502 with the client's error:
// - get: GET  /plain/<client>-get.ok/items
// - post: POST /plain/<client>-post.ok/items with a JSON body
// - fail: GET  /plain/<client>-fail.fail/items (the stub answers 400)
// - retry: GET /plain/<client>-retry.flaky/items (503 once, then 200; got retries it itself)
// - llm: POST /openai/<client>-llm.ok/v1/chat/completions, the body read as JSON
import http from 'node:http';
import zlib from 'node:zlib';
import axios from 'axios';
import got from 'got';
import { fetch as undiciFetch, request as undiciRequest } from 'undici';
import { setUser } from 'otel-pg-analytics';

const STUB = process.env.STUB_URL ?? '';
const OPENAI_KEY = JSON.parse(process.env.FAKE_KEYS ?? '{}').openai;
/** @type {Record<string, string>} */
const STUB_MODE = { get: 'ok', post: 'ok', fail: 'fail', retry: 'flaky', llm: 'ok' };
const ITEM = JSON.stringify({ name: 'widget', tags: ['a', 'b'], note: 'x'.repeat(100) });
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi.' }] });

/**
 * @typedef {{ method: 'GET' | 'POST', url: string, body?: string, headers: Record<string, string> }} Call
 * @typedef {{ status: number, text: string }} Answer
 */

/** @param {string} client @param {string} op @returns {Call} */
function callOf(client, op) {
  const base = `${STUB}/${op === 'llm' ? 'openai' : 'plain'}/${client}-${op}.${STUB_MODE[op]}`;
  if (op === 'llm') {
    return {
      method: 'POST',
      url: `${base}/v1/chat/completions`,
      body: CHAT,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` },
    };
  }
  if (op === 'post') {
    return {
      method: 'POST',
      url: `${base}/items`,
      body: ITEM,
      headers: { 'content-type': 'application/json' },
    };
  }
  return { method: 'GET', url: `${base}/items`, headers: {} };
}

/** Each client makes `call` and returns the status and the (decoded) body. @type {Record<string, (call: Call) => Promise<Answer>>} */
const CLIENTS = {
  async fetch(call) {
    const response = await fetch(call.url, call);
    return { status: response.status, text: await response.text() };
  },

  http: (call) =>
    new Promise((resolve, reject) => {
      const request = http.request(call.url, { method: call.method, headers: call.headers }, (response) => {
        /** @type {Buffer[]} */
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(call.body);
    }),

  async axios(call) {
    const response = await axios.request({
      method: call.method,
      url: call.url,
      data: call.body,
      headers: call.headers,
      responseType: 'text',
      validateStatus: () => true,
    });
    return { status: response.status, text: String(response.data) };
  },

  async got(call) {
    // got retries GETs answered 503 by itself (twice by default), honouring retry-after.
    const response = await got(call.url, {
      method: call.method,
      body: call.body,
      headers: call.headers,
      throwHttpErrors: false,
    });
    return { status: response.statusCode, text: response.body };
  },

  async 'undici-request'(call) {
    // undici's own request() neither asks for nor decodes compression: bodies come as sent.
    const response = await undiciRequest(call.url, {
      method: call.method,
      body: call.body,
      headers: call.headers,
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const gzip = response.headers['content-encoding'] === 'gzip';
    return { status: response.statusCode, text: (gzip ? zlib.gunzipSync(bytes) : bytes).toString() };
  },

  async 'undici-fetch'(call) {
    const response = await undiciFetch(call.url, call);
    return { status: response.status, text: await response.text() };
  },
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const client = CLIENTS[url.searchParams.get('client') ?? ''];
  const op = url.searchParams.get('op') ?? '';
  res.setHeader('content-type', 'application/json');
  if (url.pathname !== '/call' || !client || !(op in STUB_MODE)) {
    res.writeHead(404).end('{}');
    return;
  }
  setUser('user-7');
  try {
    const answer = await client(callOf(url.searchParams.get('client') ?? '', op));
    res.end(JSON.stringify(answer));
  } catch (error) {
    res.writeHead(502).end(JSON.stringify({ message: String(/** @type {Error} */ (error).message) }));
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});

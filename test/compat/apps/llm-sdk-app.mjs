// An app whose request handlers call LLM SDKs, as apps do, against the local stub (STUB_URL).
// GET /call?sdk=<sdk>&mode=<plain|stream|retry|fail> sets the request's user, makes one SDK call
// with the SDK's base URL pointed at `${STUB_URL}/<provider>/<sdk>-<mode>.<stub mode>`, and
// answers 200 with the text, or 502 with the status and message of the SDK's error.
import http from 'node:http';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { setUser } from 'otel-pg-analytics';

const STUB = process.env.STUB_URL ?? '';
const KEYS = JSON.parse(process.env.FAKE_KEYS ?? '{}');
/** @type {Record<string, string>} */
const STUB_MODE = { plain: 'ok', stream: 'ok', retry: 'retry', fail: 'fail' };
/** @type {{ role: 'user', content: string }[]} */
const MESSAGES = [{ role: 'user', content: 'Say hi.' }];
const PROMPT = 'Say hi.';

/** @param {string} provider @param {string} sdk @param {string} mode */
const baseOf = (provider, sdk, mode) => `${STUB}/${provider}/${sdk}-${mode}.${STUB_MODE[mode]}`;

/** @param {AsyncIterable<unknown>} stream @param {(chunk: any) => string | undefined} text */
async function collect(stream, text) {
  let out = '';
  for await (const chunk of stream) out += text(chunk) ?? '';
  return out;
}

/**
 * One call per SDK and mode; each returns the text the model answered.
 * @type {Record<string, (mode: string) => Promise<string>>}
 */
const SDKS = {
  async 'openai-chat'(mode) {
    const client = new OpenAI({
      apiKey: KEYS.openai,
      baseURL: `${baseOf('openai', 'openai-chat', mode)}/v1`,
    });
    const request = { model: 'gpt-4o-mini', messages: MESSAGES };
    if (mode !== 'stream') {
      return (await client.chat.completions.create(request)).choices[0]?.message.content ?? '';
    }
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    return collect(stream, (chunk) => chunk.choices[0]?.delta?.content);
  },

  async 'openai-responses'(mode) {
    const client = new OpenAI({
      apiKey: KEYS.openai,
      baseURL: `${baseOf('openai', 'openai-responses', mode)}/v1`,
    });
    if (mode !== 'stream')
      return (await client.responses.create({ model: 'gpt-4.1', input: PROMPT })).output_text;
    const stream = await client.responses.create({ model: 'gpt-4.1', input: PROMPT, stream: true });
    return collect(stream, (event) =>
      event.type === 'response.output_text.delta' ? event.delta : undefined,
    );
  },

  async anthropic(mode) {
    const client = new Anthropic({ apiKey: KEYS.anthropic, baseURL: baseOf('anthropic', 'anthropic', mode) });
    const request = { model: 'claude-haiku-4-5', max_tokens: 64, messages: MESSAGES };
    if (mode === 'stream') return client.messages.stream(request).finalText();
    const message = await client.messages.create(request);
    return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  },

  async genai(mode) {
    const ai = new GoogleGenAI({
      apiKey: KEYS.gemini,
      httpOptions: {
        baseUrl: baseOf('gemini', 'genai', mode),
        // The SDK retries only when asked to.
        ...(mode === 'retry' && { retryOptions: { attempts: 2, initialDelay: 0.01 } }),
      },
    });
    const request = { model: 'gemini-2.5-flash', contents: PROMPT };
    if (mode !== 'stream') return (await ai.models.generateContent(request)).text ?? '';
    return collect(await ai.models.generateContentStream(request), (chunk) => chunk.text);
  },

  'vercel-openai': (mode) =>
    vercel(
      createOpenAI({ apiKey: KEYS.openai, baseURL: `${baseOf('openai', 'vercel-openai', mode)}/v1` })(
        'gpt-4.1',
      ),
      mode,
    ),

  'vercel-openai-chat': (mode) =>
    vercel(
      createOpenAI({
        apiKey: KEYS.openai,
        baseURL: `${baseOf('openai', 'vercel-openai-chat', mode)}/v1`,
      }).chat('gpt-4o-mini'),
      mode,
    ),

  'vercel-anthropic': (mode) =>
    vercel(
      createAnthropic({
        apiKey: KEYS.anthropic,
        baseURL: `${baseOf('anthropic', 'vercel-anthropic', mode)}/v1`,
      })('claude-haiku-4-5'),
      mode,
    ),

  'vercel-google': (mode) =>
    vercel(
      createGoogleGenerativeAI({
        apiKey: KEYS.gemini,
        baseURL: `${baseOf('gemini', 'vercel-google', mode)}/v1beta`,
      })('gemini-2.5-flash'),
      mode,
    ),

  async langchain(mode) {
    const model = new ChatOpenAI({
      model: 'gpt-4o-mini',
      apiKey: KEYS.openai,
      configuration: { baseURL: `${baseOf('openai', 'langchain', mode)}/v1` },
      maxRetries: 2,
    });
    if (mode !== 'stream') return String((await model.invoke(PROMPT)).content);
    return collect(await model.stream(PROMPT), (chunk) => String(chunk.content));
  },
};

/** @param {import('ai').LanguageModel} model @param {string} mode */
async function vercel(model, mode) {
  if (mode !== 'stream') return (await generateText({ model, prompt: PROMPT })).text;
  /** @type {unknown} */
  let failure;
  const result = streamText({ model, prompt: PROMPT, onError: ({ error }) => void (failure = error) });
  const text = await collect(result.textStream, (delta) => delta);
  if (failure) throw failure;
  return text;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const sdk = url.searchParams.get('sdk') ?? '';
  const mode = url.searchParams.get('mode') ?? 'plain';
  const call = SDKS[sdk];
  res.setHeader('content-type', 'application/json');
  if (url.pathname !== '/call' || !call || !(mode in STUB_MODE)) {
    res.writeHead(404).end('{}');
    return;
  }
  setUser('user-7');
  try {
    res.end(JSON.stringify({ text: await call(mode) }));
  } catch (error) {
    const e = /** @type {{ status?: number, statusCode?: number, message?: string }} */ (error);
    res.writeHead(502).end(JSON.stringify({ status: e.status ?? e.statusCode, message: String(e.message) }));
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});

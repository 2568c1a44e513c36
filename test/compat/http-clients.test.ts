import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PRICES } from '../../src/pricing/price-table.js';
import { FAKE_KEYS, LLM_STUB_USAGE, OPENAI_MODEL_SUFFIX } from './support/llm-stub.js';
import { runCallApp, type CallAppRun, type CallRow } from './support/run-call-app.js';

/**
 * The HTTP clients people use, called from a request handler (which sets the user) against a
 * local JSON API, beside global `fetch` and `http.request` as the reference: each attempt is one
 * row with its method, status, endpoint, sizes as on the wire (compressed or not), error and
 * user; got's own retry of a 503 is two rows; an OpenAI call through each is priced once.
 */

const CLIENTS = ['fetch', 'http', 'axios', 'got', 'undici-request', 'undici-fetch'] as const;
const OPS = ['get', 'post', 'fail', 'retry', 'llm'] as const;
type Client = (typeof CLIENTS)[number];
type Op = (typeof OPS)[number];
const CALLS = CLIENTS.flatMap((client) => OPS.map((op) => ({ client, op })));
const STUB_MODE: Record<Op, string> = { get: 'ok', post: 'ok', fail: 'fail', retry: 'flaky', llm: 'ok' };

/** The statuses of the attempts each call makes: only got retries a 503 by itself. */
function attempts(client: Client, op: Op): number[] {
  switch (op) {
    case 'get':
    case 'llm':
      return [200];
    case 'post':
      return [201];
    case 'fail':
      return [400];
    case 'retry':
      return client === 'got' ? [503, 200] : [503];
  }
}

/** The stub's OpenAI usage at gpt-4o-mini's published prices, by hand. */
function chatCost(): number {
  const p = DEFAULT_MODEL_PRICES.find((row) => row.model === 'gpt-4o-mini')!;
  const o = LLM_STUB_USAGE.openai;
  const usd =
    (o.prompt - o.cached) * p.inputPerMillion +
    o.cached * p.cachedInputPerMillion! +
    o.completion * p.outputPerMillion;
  return Math.round((usd / 1e6) * 1e8) / 1e8;
}

describe('HTTP clients called from a request handler', () => {
  let run: CallAppRun;
  beforeAll(async () => {
    run = await runCallApp('http_clients', 'test/compat/apps/http-clients-app.mjs', CALLS);
  });
  afterAll(async () => {
    await run?.db.drop();
  });

  /** The rows of one call, by the stub path it used, in order. */
  const rowsOf = (client: Client, op: Op): CallRow[] =>
    run.rows.filter((row) => new URL(row.endpoint).pathname.includes(`/${client}-${op}.`));

  it('gets every answer the stub gave (got after retrying the 503)', () => {
    expect(
      CALLS.map(
        ({ client, op }) => `${client} ${op}: ${String(run.answers.get(`${client} ${op}`)?.body.status)}`,
      ),
    ).toEqual(CALLS.map(({ client, op }) => `${client} ${op}: ${attempts(client, op).at(-1)}`));
  });

  it('records one row per attempt, as the stub received them', () => {
    expect(
      CALLS.map(
        ({ client, op }) =>
          `${client} ${op}: ${rowsOf(client, op)
            .map((row) => row.status_code)
            .join(',')}`,
      ),
    ).toEqual(CALLS.map(({ client, op }) => `${client} ${op}: ${attempts(client, op).join(',')}`));
    expect(run.stubRequests.map((r) => r.status)).toEqual(
      CALLS.flatMap(({ client, op }) => attempts(client, op)),
    );
    expect(run.rows).toHaveLength(run.stubRequests.length);
  });

  it('records each attempt whole: method, endpoint, status, error, service, user, cost', () => {
    for (const { client, op } of CALLS) {
      const path =
        op === 'llm'
          ? `/openai/${client}-llm.ok/v1/chat/completions`
          : `/plain/${client}-${op}.${STUB_MODE[op]}/items`;
      expect(rowsOf(client, op), `${client} ${op}`).toMatchObject(
        attempts(client, op).map((status) => ({
          user_id: 'user-7',
          service: op === 'llm' ? 'openai' : '127.0.0.1',
          endpoint: `${run.stubUrl}${path}`,
          method: op === 'post' || op === 'llm' ? 'POST' : 'GET',
          status_code: status,
          error_message: status === 400 ? 'Bad Request' : status === 503 ? 'Service Unavailable' : null,
          cost_estimate: op === 'llm' ? chatCost().toFixed(8) : null,
          metadata:
            op === 'llm'
              ? {
                  host: '127.0.0.1',
                  provider: 'openai',
                  response_model: `gpt-4o-mini${OPENAI_MODEL_SUFFIX}`,
                  input_tokens: LLM_STUB_USAGE.openai.prompt,
                  output_tokens: LLM_STUB_USAGE.openai.completion,
                }
              : { host: '127.0.0.1' },
        })),
      );
    }
  });

  it('sizes request and response bodies as they went over the wire, compressed or not', () => {
    // The clients differ: axios, got and both fetches ask for gzip, http and undici's request() do not.
    for (const { client, op } of CALLS) {
      const sent = run.stubRequests.filter((r) => r.url.includes(`/${client}-${op}.`));
      expect(
        rowsOf(client, op).map((row) => [row.request_size, row.response_size]),
        `${client} ${op}`,
      ).toEqual(sent.map((r) => [String(r.bodyBytes), String(r.responseBytes)]));
    }
    const gzipped = (client: Client) =>
      run.stubRequests.some(
        (r) => r.url.includes(`/${client}-`) && /gzip/.test(r.headers['accept-encoding'] ?? ''),
      );
    expect(CLIENTS.filter(gzipped)).toEqual(['fetch', 'axios', 'got', 'undici-fetch']);
  });

  it("attributes every request to the handler's user and keeps the API key out of the database", () => {
    expect(run.requests.map((r) => r.user_id)).toEqual(CALLS.map(() => 'user-7'));
    for (const text of Object.values(run.tableText)) expect(text).not.toContain(FAKE_KEYS.openai);
    expect(run.stderr).toBe('');
  });
});

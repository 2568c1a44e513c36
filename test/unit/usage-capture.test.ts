import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import type { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { geminiResponse } from '../../dev/llm-responses.mjs';
import {
  captureOf,
  finishCapture,
  pushChunk,
  startCapture,
  tapUndiciHandler,
} from '../../src/usage/usage-capture.js';
import { createProcessorHarness, type ProcessorHarness } from '../helpers/tracing.js';
import { usageKind } from '../helpers/usage-kind.js';

let harness: ProcessorHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** An undici 6 request as Node 22 has it: its handler under a `handler` symbol. */
function undici6Request(received: Uint8Array[]) {
  const kHandler = Symbol('handler');
  return {
    [kHandler]: {
      onData(chunk: Uint8Array) {
        received.push(chunk);
        return true;
      },
    },
    deliver(chunk: Uint8Array) {
      return (this as unknown as Record<symbol, { onData(c: Uint8Array): boolean }>)[kHandler]!.onData(chunk);
    },
  };
}

/**
 * An undici 8 request: it calls its handler's `onResponseData(controller, chunk)` (the new
 * handler API; a legacy handler is wrapped into one), and has no `onData` of its own.
 */
function undici8Request(received: Uint8Array[]) {
  const kHandler = Symbol('handler');
  const controller = { paused: false };
  return {
    [kHandler]: {
      onData() {
        throw new Error('undici 8 never calls onData');
      },
      onResponseData(control: unknown, chunk: Uint8Array) {
        expect(control).toBe(controller);
        received.push(chunk);
      },
    },
    onResponseData(chunk: Uint8Array) {
      const handler = (
        this as unknown as Record<symbol, { onResponseData(c: unknown, d: Uint8Array): void }>
      )[kHandler]!;
      handler.onResponseData(controller, chunk);
      return !controller.paused;
    },
  };
}

/** A local server answering every request with `body`, in two writes. */
async function serve(body: Buffer): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write(body.subarray(0, 9));
    setImmediate(() => response.end(body.subarray(9)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta/models/gemini-2.5-flash:generateContent`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('usage capture', () => {
  it("taps an undici 6 request's handler: the app's handler gets every chunk unchanged, the usage lands on the span", () => {
    harness = createProcessorHarness();
    const span = harness.startCall(ROOT_CONTEXT);
    const received: Uint8Array[] = [];
    const request = undici6Request(received);
    expect(tapUndiciHandler(request)).toBe(true);
    startCapture(request, span, usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'));
    const body = Buffer.from(geminiResponse('gemini-2.5-flash', { prompt: 10, candidates: 5 }));
    expect(request.deliver(body.subarray(0, 20))).toBe(true);
    request.deliver(body.subarray(20));
    finishCapture(request);
    expect(Buffer.concat(received).equals(body)).toBe(true);
    span.end();
    const [call] = harness.passed();
    expect(call!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    });
  });

  it("taps an undici 8 request's handler where the request calls it (onResponseData)", () => {
    harness = createProcessorHarness();
    const span = harness.startCall(ROOT_CONTEXT);
    const received: Uint8Array[] = [];
    const request = undici8Request(received);
    expect(tapUndiciHandler(request)).toBe(true);
    startCapture(request, span, usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'));
    const body = Buffer.from(geminiResponse('gemini-2.5-flash', { prompt: 10, candidates: 5 }));
    expect(request.onResponseData(body.subarray(0, 20))).toBe(true);
    request.onResponseData(body.subarray(20));
    expect(captureOf(request)!.source).toBe('tap');
    finishCapture(request);
    expect(Buffer.concat(received).equals(body)).toBe(true);
    span.end();
    expect(harness.passed()[0]!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    });
  });

  it('sees every byte through the tap alone, whichever undici carries a call', async () => {
    // No body channel is subscribed in this file: what is captured came through the tap. Global
    // fetch on Node's own undici (6 on Node 22, 7 on 24), then the undici package's (8) request,
    // and fetch on undici 8's agent wrapped as the package installs it as the global dispatcher
    // (as in an app that imports undici: the fetch failing on Node 22 that way).
    const body = Buffer.from(geminiResponse('gemini-2.5-flash', { prompt: 10, candidates: 5 }));
    const stub = await serve(body);
    const seen: { api: string; source: string | undefined; bytes: number | undefined }[] = [];
    const onCreate = ({ request }: { request: object }) => {
      if (!tapUndiciHandler(request)) return;
      const span = { isRecording: () => false } as unknown as Span;
      startCapture(request, span, usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'));
    };
    const onTrailers = ({ request }: { request: { onData?: unknown } }) => {
      const capture = captureOf(request);
      const api = typeof request.onData === 'function' ? 'onData' : 'onResponseData';
      seen.push({ api, source: capture?.source, bytes: capture?.body.bytes });
      finishCapture(request);
    };
    subscribe('undici:request:create', onCreate as (message: unknown) => void);
    subscribe('undici:request:trailers', onTrailers as (message: unknown) => void);
    const answers: string[] = [];
    let agent: Agent | undefined;
    try {
      // Before undici is loaded: on Node 22 loading it makes its agent the global dispatcher.
      answers.push(await (await fetch(stub.url, { method: 'POST', body: '{}' })).text());
      const { Agent, Dispatcher1Wrapper, request } = await import('undici');
      agent = new Agent();
      answers.push(
        await (await request(stub.url, { method: 'POST', body: '{}', dispatcher: agent })).body.text(),
      );
      const init = { method: 'POST', body: '{}', dispatcher: new Dispatcher1Wrapper(agent) };
      answers.push(await (await fetch(stub.url, init as RequestInit)).text());
    } finally {
      await agent?.close();
      unsubscribe('undici:request:create', onCreate as (message: unknown) => void);
      unsubscribe('undici:request:trailers', onTrailers as (message: unknown) => void);
      await stub.close();
    }
    expect(answers).toEqual([body.toString(), body.toString(), body.toString()]);
    expect(seen).toEqual([
      { api: 'onData', source: 'tap', bytes: body.length },
      { api: 'onResponseData', source: 'tap', bytes: body.length },
      { api: 'onResponseData', source: 'tap', bytes: body.length },
    ]);
  });

  it('reports that a request without a handler it knows cannot be tapped', () => {
    expect(tapUndiciHandler({})).toBe(false);
    expect(tapUndiciHandler({ [Symbol('handler')]: {} })).toBe(false);
    // An undici 8 request whose handler has no onResponseData: nothing to wrap.
    expect(tapUndiciHandler({ onResponseData() {}, [Symbol('handler')]: { onData() {} } })).toBe(false);
  });

  it('puts the reason on the span when a response had no readable usage', () => {
    harness = createProcessorHarness();
    const span = harness.startCall(ROOT_CONTEXT);
    const request = {};
    startCapture(request, span, usageKind('openai', '/v1/chat/completions'));
    finishCapture(request);
    span.end();
    expect(harness.passed()[0]!.attributes['analytics.usage.unknown_reason']).toBe('body_not_observed');
  });

  it('names the operation and the model of a Gemini URL on an attempt whose answer had no usage (a 429)', () => {
    harness = createProcessorHarness();
    const span = harness.startCall(ROOT_CONTEXT);
    const request = {};
    startCapture(request, span, usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'));
    pushChunk(request, 'tap', Buffer.from('{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}'));
    finishCapture(request);
    span.end();
    expect(harness.passed()[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'analytics.usage.unknown_reason': 'no_usage_in_response',
    });
  });

  it('gives the response the size of the bytes that passed when it declared none, and keeps a declared one', () => {
    harness = createProcessorHarness();
    const body = Buffer.from(geminiResponse('gemini-2.5-flash', { prompt: 10, candidates: 5 }));
    const sizes: unknown[] = [];
    for (const declared of [undefined, 4242]) {
      const span = harness.startCall(ROOT_CONTEXT);
      if (declared !== undefined) span.setAttribute('http.response.body.size', declared);
      const request = {};
      startCapture(request, span, usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'));
      pushChunk(request, 'channel', body.subarray(0, 7));
      pushChunk(request, 'channel', body.subarray(7));
      finishCapture(request);
      span.end();
      sizes.push(harness.passed().at(-1)!.attributes['http.response.body.size']);
    }
    expect(sizes).toEqual([body.length, 4242]);
  });

  it('gives no size to a response whose body it never saw', () => {
    harness = createProcessorHarness();
    const span = harness.startCall(ROOT_CONTEXT);
    const request = {};
    startCapture(request, span, usageKind('openai', '/v1/chat/completions'));
    finishCapture(request);
    span.end();
    expect(harness.passed()[0]!.attributes['http.response.body.size']).toBeUndefined();
  });

  it('keeps the chunks of one source when a request is seen by two (a tapped handler and the channel)', () => {
    harness = createProcessorHarness();
    const span = harness.startCall(ROOT_CONTEXT);
    const request = {};
    startCapture(request, span, usageKind('gcp.gemini', '/v1beta/models/gemini-2.5-flash:generateContent'));
    const body = Buffer.from(geminiResponse('gemini-2.5-flash', { prompt: 10, candidates: 5 }));
    for (const part of [body.subarray(0, 20), body.subarray(20)]) {
      pushChunk(request, 'channel', part);
      pushChunk(request, 'tap', part);
    }
    expect(captureOf(request)!.body.bytes).toBe(body.length);
    finishCapture(request);
    span.end();
  });

  it('never throws into the stream it taps, whatever it is handed', () => {
    harness = createProcessorHarness();
    const request = {};
    startCapture(request, harness.startCall(ROOT_CONTEXT), usageKind('openai', '/v1/chat/completions'));
    expect(() => pushChunk(request, 'tap', null as unknown as Uint8Array)).not.toThrow();
    expect(() => pushChunk(undefined, 'tap', Buffer.from('x'))).not.toThrow();
  });
});

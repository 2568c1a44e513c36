import { SpanKind, type Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CallerFolder } from '../../ingest/caller-folder.js';
import { ServiceCatalog } from '../../src/pricing/service-catalog.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { fakeSpan } from '../../dev/spans.js';

const TRACE = 'a'.repeat(32);

/** A finished span of the trace from `service`, under `parent`. */
function span(
  kind: SpanKind,
  spanId: string,
  parent: string | undefined,
  attributes: Attributes = {},
  service = 'service-a',
): ReadableSpanLike {
  return {
    ...fakeSpan({ kind, scope: 'some-sdk', traceId: TRACE, spanId, attributes, serviceName: service }),
    ...(parent !== undefined && {
      parentSpanContext: { traceId: TRACE, spanId: parent, traceFlags: 1, isRemote: true },
    }),
  };
}

/**
 * A finished CLIENT span of the trace to one API, under `parent`; an attempt when it has an
 * HTTP method, else a caller naming the host its attempts go to.
 */
function client(
  spanId: string,
  parent: string | undefined,
  method?: string,
  service?: string,
): ReadableSpanLike {
  const host = { 'server.address': 'api.example.com' };
  const attributes = method
    ? { ...host, 'http.request.method': method, 'http.response.status_code': 200 }
    : host;
  return span(SpanKind.CLIENT, spanId, parent, attributes, service);
}

const ids = (spans: readonly ReadableSpanLike[]) => spans.map((s) => s.spanContext().spanId);
const id = (digit: string) => digit.repeat(16);

/** Folds each batch in turn, taking it (commit), and returns what each became. */
function foldAll(folder: CallerFolder, ...batches: ReadableSpanLike[][]): (readonly ReadableSpanLike[])[] {
  return batches.map((batch) => {
    const folded = folder.fold(batch);
    folded.commit();
    return folded.spans;
  });
}

/**
 * Service A's attempt (a2, under A's request a1) calls service B: B's request b1 is its child,
 * and B's attempt b2 (with no caller of its own) is b1's. B may be A itself (a call to itself,
 * one resource): the request span alone says where the process's part begins.
 */
function serviceChain(serviceB: string) {
  const a2 = span(SpanKind.CLIENT, id('2'), id('1'), {
    'http.request.method': 'POST',
    'server.address': 'service-b.internal',
    'http.response.status_code': 200,
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 10,
  });
  const b1 = span(SpanKind.SERVER, id('3'), id('2'), { 'http.request.method': 'POST' }, serviceB);
  const b2 = span(
    SpanKind.CLIENT,
    id('4'),
    id('3'),
    { 'http.request.method': 'POST', 'server.address': 'api.openai.com', 'http.response.status_code': 200 },
    serviceB,
  );
  return { a2, b1, b2 };
}

describe('CallerFolder', () => {
  it('returns a batch without callers as it is', () => {
    const batch = [client(id('1'), undefined, 'GET'), client(id('2'), id('9'))];
    expect(new CallerFolder().fold(batch).spans).toBe(batch);
  });

  it.each(['service-b', 'service-a'])(
    'keeps the attempt that called a request (of %s) as a row, and gives its attributes to no attempt of that request (one batch)',
    (serviceB) => {
      const { a2, b1, b2 } = serviceChain(serviceB);
      const batch = [b2, b1, a2];
      // Nothing folded: every span comes out as it came in, b2 with its own attributes only.
      expect(new CallerFolder().fold(batch).spans).toBe(batch);
    },
  );

  it.each(['service-b', 'service-a'])(
    'keeps the attempt that called a request (of %s) as a row when the spans come in separate batches, in any order',
    (serviceB) => {
      type Chain = ReturnType<typeof serviceChain>;
      for (const order of [
        (c: Chain) => [[c.b2], [c.b1], [c.a2]],
        (c: Chain) => [[c.b2, c.b1], [c.a2]],
        (c: Chain) => [[c.b2], [c.a2], [c.b1]],
        (c: Chain) => [[c.a2], [c.b2], [c.b1]],
      ]) {
        const batches = order(serviceChain(serviceB));
        const out = foldAll(new CallerFolder(), ...batches);
        out.forEach((spans, i) => expect(spans).toBe(batches[i]));
      }
    },
  );

  it('stops at a CONSUMER span: the producer above it is no caller of the attempts under it', () => {
    const producer = span(SpanKind.PRODUCER, id('1'), undefined);
    const sdkCall = client(id('2'), id('1'));
    const consumer = span(SpanKind.CONSUMER, id('3'), id('2'));
    const attempt = client(id('4'), id('3'), 'POST');
    const batch = [attempt, consumer, sdkCall, producer];
    expect(new CallerFolder().fold(batch).spans).toBe(batch);
    const folder = new CallerFolder();
    foldAll(folder, [attempt], [consumer]);
    // The consumer's arrival forgot it, and nothing above it was remembered.
    expect(foldAll(folder, [sdkCall])[0]).toEqual([sdkCall]);
  });

  it("stops at a parent of another resource: another process's CLIENT span is no caller", () => {
    // Service B's attempt continues service A's span directly (B's inbound side is not traced).
    const aCall = client(id('1'), undefined, 'POST', 'service-a');
    const bAttempt = client(id('2'), id('1'), 'POST', 'service-b');
    const batch = [bAttempt, aCall];
    expect(new CallerFolder().fold(batch).spans).toBe(batch);
    const folder = new CallerFolder();
    foldAll(folder, [bAttempt]);
    expect(foldAll(folder, [aCall])[0]).toEqual([aCall]);
  });

  it('still drops a caller of the same process that comes in a later batch, across an INTERNAL span', () => {
    const folder = new CallerFolder();
    const caller = client(id('1'), id('9'));
    const retry = span(SpanKind.INTERNAL, id('2'), id('1'));
    const attempt = client(id('3'), id('2'), 'POST');
    const [first, second, third] = foldAll(folder, [attempt], [retry], [caller]);
    expect(ids(first!)).toEqual([id('3')]);
    expect(ids(second!)).toEqual([id('2')]);
    expect(third).toEqual([]);
  });

  it('remembers the newest missing ancestors only, forgetting the oldest first', () => {
    const folder = new CallerFolder(new ServiceCatalog(), 1);
    const [p1, p2] = [id('1'), id('2')];
    foldAll(folder, [client(id('a'), p1, 'POST')], [client(id('b'), p2, 'POST')]);
    // p1 was forgotten when p2 came: it is a row of its own; p2 is still known as a caller.
    expect(ids(foldAll(folder, [client(p1, undefined, 'POST'), client(p2, undefined, 'POST')])[0]!)).toEqual([
      p1,
    ]);
  });

  it('forgets a remembered ancestor once its span has come, so that it takes no room from callers still awaited', () => {
    const folder = new CallerFolder(new ServiceCatalog(), 2);
    const [caller, request, later] = [id('1'), id('2'), id('3')];
    foldAll(
      folder,
      [client(id('a'), caller, 'POST')],
      [client(id('b'), request, 'POST')],
      [span(SpanKind.SERVER, request, undefined, { 'http.request.method': 'GET' })],
      [client(id('c'), later, 'POST')],
    );
    // Had the request's id stayed, the third id would have pushed the caller's out.
    expect(foldAll(folder, [client(caller, undefined)])[0]).toEqual([]);
  });

  it('leaves the memory as it was when a batch is not taken, so that its retry folds the same way', () => {
    const folder = new CallerFolder();
    const caller = client(id('1'), undefined);
    foldAll(folder, [client(id('2'), id('1'), 'POST')]);
    // Refused (no room): no commit. The retry still drops the caller; once taken, it is forgotten.
    expect(folder.fold([caller]).spans).toEqual([]);
    expect(foldAll(folder, [caller])[0]).toEqual([]);
    expect(foldAll(folder, [caller])[0]).toEqual([caller]);
  });

  it("gives the caller's usage to the last 2xx attempt to its provider, not to a tool call made inside it after", () => {
    const caller = span(SpanKind.CLIENT, id('1'), undefined, {
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
    });
    const llmAttributes = {
      'http.request.method': 'POST',
      'server.address': 'api.openai.com',
      'http.response.status_code': 200,
    };
    const llm = {
      ...span(SpanKind.CLIENT, id('2'), id('1'), llmAttributes),
      startTime: [1, 0] as [number, number],
    };
    const toolAttributes = {
      'http.request.method': 'GET',
      'server.address': 'tools.example.com',
      'http.response.status_code': 200,
    };
    const tool = {
      ...span(SpanKind.CLIENT, id('3'), id('1'), toolAttributes),
      startTime: [2, 0] as [number, number],
    };
    const [toolRow, llmRow, ...rest] = new CallerFolder().fold([tool, caller, llm]).spans;
    expect(rest).toEqual([]);
    // Another call made inside the caller: left as it came.
    expect(toolRow).toBe(tool);
    expect(llmRow!.spanContext().spanId).toBe(id('2'));
    expect(llmRow!.attributes).toEqual({
      ...llmAttributes,
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
    });
  });

  describe('a caller none of whose attempts is its call', () => {
    /** A Vertex-style SDK's call span, with its HTTP method (so a row of its own) and its usage. */
    const vertexCall = (spanId: string, parent: string | undefined) =>
      span(SpanKind.CLIENT, spanId, parent, {
        'http.request.method': 'POST',
        'server.address': 'us-central1-aiplatform.googleapis.com',
        'gen_ai.provider.name': 'gcp.vertex_ai',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 200,
        'http.response.status_code': 200,
      });
    /** Its OAuth token fetch: another host, of no GenAI provider. */
    const tokenFetch = (spanId: string, parent: string) =>
      span(SpanKind.CLIENT, spanId, parent, {
        'http.request.method': 'POST',
        'server.address': 'oauth2.googleapis.com',
        'url.full': 'https://oauth2.googleapis.com/token',
        'http.response.status_code': 200,
      });
    /** Its model call, to another region's host: the catalog gives the provider. */
    const modelCall = (spanId: string, parent: string) =>
      span(SpanKind.CLIENT, spanId, parent, {
        'http.request.method': 'POST',
        'server.address': 'europe-west4-aiplatform.googleapis.com',
        'url.full':
          'https://europe-west4-aiplatform.googleapis.com/v1/models/gemini-2.5-flash:generateContent',
        'http.response.status_code': 200,
      });
    const [call, token, model, between, chain] = [id('1'), id('2'), id('3'), id('4'), id('5')];

    it('keeps it and its token fetch as they came, in one batch', () => {
      const batch = [tokenFetch(token, call), vertexCall(call, undefined)];
      expect(new CallerFolder().fold(batch).spans).toBe(batch);
    });

    it('keeps it when it comes in a later batch than its token fetch, across a span between them', () => {
      const direct = foldAll(new CallerFolder(), [tokenFetch(token, call)], [vertexCall(call, undefined)]);
      expect(direct.map(ids)).toEqual([[token], [call]]);
      const across = foldAll(
        new CallerFolder(),
        [tokenFetch(token, between)],
        [span(SpanKind.INTERNAL, between, call)],
        [vertexCall(call, undefined)],
      );
      expect(across.map(ids)).toEqual([[token], [between], [call]]);
    });

    it('drops it when an attempt of its call came too, in the same batch or in any earlier one', () => {
      const batch = [tokenFetch(token, call), modelCall(model, call), vertexCall(call, undefined)];
      const folded = new CallerFolder().fold(batch).spans;
      expect(ids(folded)).toEqual([token, model]);
      // The token fetch gets nothing of the call; the model call its model and usage.
      expect(folded[0]).toBe(batch[0]);
      expect(folded[1]!.attributes).toMatchObject({
        'gen_ai.request.model': 'gemini-2.5-flash',
        'gen_ai.usage.input_tokens': 1000,
      });
      const split = foldAll(
        new CallerFolder(),
        [tokenFetch(token, call)],
        [modelCall(model, between), span(SpanKind.INTERNAL, between, call)],
        [vertexCall(call, undefined)],
      );
      expect(split.map(ids)).toEqual([[token], [model, between], []]);
    });

    it('remembers no attempt of a batch that was not taken', () => {
      const folder = new CallerFolder();
      foldAll(folder, [tokenFetch(token, call)]);
      // Refused: the model call's target is not kept; the caller then owns no attempt.
      folder.fold([modelCall(model, call)]);
      expect(ids(foldAll(folder, [vertexCall(call, undefined)])[0]!)).toEqual([call]);
    });

    it('drops a CLIENT span around it, in one batch and when each comes in a batch of its own', () => {
      const spans = () => [
        tokenFetch(token, call),
        vertexCall(call, chain),
        client(chain, undefined, 'POST'),
      ];
      expect(ids(new CallerFolder().fold(spans()).spans)).toEqual([token, call]);
      const out = foldAll(new CallerFolder(), ...spans().map((s) => [s]));
      expect(out.map(ids)).toEqual([[token], [call], []]);
    });

    it('drops it, as before, when its attempts of earlier batches went to more hosts than are remembered', () => {
      const folder = new CallerFolder();
      const hosts = Array.from({ length: 9 }, (_, i) =>
        span(SpanKind.CLIENT, (i + 6).toString(16).repeat(16), call, {
          'http.request.method': 'GET',
          'server.address': `tool-${i}.example.com`,
          'http.response.status_code': 200,
        }),
      );
      foldAll(folder, ...hosts.map((s) => [s]));
      expect(foldAll(folder, [vertexCall(call, undefined)])[0]).toEqual([]);
    });
  });

  it('stops following parents of a cycle no SDK makes', () => {
    const [x, y] = [id('3'), id('4')];
    const batch = [client(x, y, 'POST'), client(y, x, 'POST')];
    expect(ids(new CallerFolder().fold(batch).spans)).toEqual([]);
  });
});

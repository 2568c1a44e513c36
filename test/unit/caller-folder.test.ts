import { SpanKind, type Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CallerFolder } from '../../ingest/caller-folder.js';
import { ServiceCatalog } from '../../src/pricing/service-catalog.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { fakeSpan } from '../helpers/spans.js';

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

/** A finished CLIENT span of the trace, under `parent`; an attempt when it has an HTTP method. */
function client(spanId: string, parent: string | undefined, method?: string): ReadableSpanLike {
  return {
    ...fakeSpan({
      kind: SpanKind.CLIENT,
      scope: 'some-sdk',
      traceId: TRACE,
      spanId,
      attributes: method ? { 'http.request.method': method, 'http.response.status_code': 200 } : {},
    }),
    ...(parent !== undefined && {
      parentSpanContext: { traceId: TRACE, spanId: parent, traceFlags: 1, isRemote: true },
    }),
  };
}

const ids = (spans: readonly ReadableSpanLike[]) => spans.map((s) => s.spanContext().spanId);
const id = (digit: string) => digit.repeat(16);

describe('CallerFolder', () => {
  it('returns a batch without callers as it is', () => {
    const batch = [client('1'.repeat(16), undefined, 'GET'), client('2'.repeat(16), '9'.repeat(16))];
    expect(new CallerFolder().fold(batch)).toBe(batch);
  });

  it('remembers the newest missing ancestors only, forgetting the oldest first', () => {
    const folder = new CallerFolder(new ServiceCatalog(), 1);
    const [p1, p2] = ['1'.repeat(16), '2'.repeat(16)];
    folder.fold([client('a'.repeat(16), p1, 'POST')]);
    folder.fold([client('b'.repeat(16), p2, 'POST')]);
    // p1 was forgotten when p2 came: it is a row of its own; p2 is still known as a caller.
    expect(ids(folder.fold([client(p1, undefined, 'POST'), client(p2, undefined, 'POST')]))).toEqual([p1]);
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
    const [toolRow, llmRow, ...rest] = new CallerFolder().fold([tool, caller, llm]);
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

  it('stops following parents of a cycle no SDK makes', () => {
    const [x, y] = ['3'.repeat(16), '4'.repeat(16)];
    const batch = [client(x, y, 'POST'), client(y, x, 'POST')];
    expect(ids(new CallerFolder().fold(batch))).toEqual([]);
  });
});

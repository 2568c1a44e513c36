import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanStatus } from '@opentelemetry/api';
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import { sampleApiSpan, traceIdRatio } from '../../src/processors/sample-api-span.js';
import { ATTR_ANALYTICS_NO_RESPONSE } from '../../src/semconv.js';
import type { ReadableSpanLike } from '../../src/span-types.js';

const SLOW_MS = 1000;
/** Trace ids whose last 8 hex digits put them at the bottom and top of [0, 1). */
const LOW_TRACE = '0123456789abcdef0123456700000001';
const HIGH_TRACE = '0123456789abcdef01234567fffffffe';

interface FakeSpanInput {
  status?: number | undefined;
  spanStatus?: SpanStatus;
  duration?: HrTime;
  traceId?: string;
  attributes?: Attributes;
}

function fakeSpan(input: FakeSpanInput = {}): ReadableSpanLike {
  const attributes: Attributes = { ...input.attributes };
  if (!('status' in input)) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = 200;
  else if (input.status !== undefined) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = input.status;
  const traceId = input.traceId ?? HIGH_TRACE;
  return {
    name: 'GET',
    kind: SpanKind.SERVER,
    spanContext: () => ({ traceId, spanId: '0123456789abcdef', traceFlags: 1 }),
    startTime: [1_700_000_000, 0],
    endTime: [1_700_000_000, 0],
    status: input.spanStatus ?? { code: SpanStatusCode.UNSET },
    attributes,
    links: [],
    events: [],
    duration: input.duration ?? [0, 5_000_000],
    ended: true,
    resource: { attributes: {} },
    instrumentationScope: { name: '@opentelemetry/instrumentation-http' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

describe('sampleApiSpan', () => {
  it.each([LOW_TRACE, HIGH_TRACE])('keeps every span with weight 1 at rate 1 (trace %s)', (traceId) => {
    expect(sampleApiSpan(fakeSpan({ traceId }), 1, SLOW_MS)).toEqual({ keep: true, weight: 1, slow: false });
  });

  it.each<[string, FakeSpanInput]>([
    ['a 500 response', { status: 500 }],
    ['a 503 response', { status: 503 }],
    ['a response without a status', { status: undefined }],
    [
      'a response with a non-numeric status',
      { attributes: { [ATTR_HTTP_RESPONSE_STATUS_CODE]: '200' }, status: undefined },
    ],
    ['a span with ERROR status', { spanStatus: { code: SpanStatusCode.ERROR, message: 'boom' } }],
    // Its status attribute is the default 200 the response never sent.
    ['a request that got no response', { attributes: { [ATTR_ANALYTICS_NO_RESPONSE]: 'client_closed' } }],
  ])('always keeps %s with weight 1', (_label, input) => {
    const decision = sampleApiSpan(fakeSpan({ ...input, traceId: HIGH_TRACE }), 0.01, SLOW_MS);
    expect(decision).toEqual({ keep: true, weight: 1, slow: false });
  });

  it('always keeps a slow request with weight 1 and flags it', () => {
    const decision = sampleApiSpan(fakeSpan({ duration: [2, 0], traceId: HIGH_TRACE }), 0.01, SLOW_MS);
    expect(decision).toEqual({ keep: true, weight: 1, slow: true });
  });

  it('counts a request exactly at the threshold as slow', () => {
    expect(sampleApiSpan(fakeSpan({ duration: [1, 0] }), 1, SLOW_MS).slow).toBe(true);
    expect(sampleApiSpan(fakeSpan({ duration: [0, 999_999_999] }), 1, SLOW_MS).slow).toBe(false);
  });

  it('flags slow requests at rate 1 as well', () => {
    expect(sampleApiSpan(fakeSpan({ duration: [5, 0] }), 1, SLOW_MS)).toEqual({
      keep: true,
      weight: 1,
      slow: true,
    });
  });

  it.each([
    ['00000000', true],
    ['00000001', true],
    ['7fffffff', true],
    ['80000000', false],
    ['80000001', false],
    ['ffffffff', false],
  ])('at rate 0.5, a trace id ending in %s is kept: %s', (tail, kept) => {
    const traceId = `${'0123456789abcdef01234567'}${tail}`;
    const decision = sampleApiSpan(fakeSpan({ traceId }), 0.5, SLOW_MS);
    expect(decision).toEqual({ keep: kept, weight: kept ? 2 : 0, slow: false });
  });

  it('decides on the last 8 hex digits only, so all spans of a trace agree', () => {
    const a = sampleApiSpan(fakeSpan({ traceId: `ffffffffffffffffffffffff${'10000000'}` }), 0.5, SLOW_MS);
    const b = sampleApiSpan(fakeSpan({ traceId: `000000000000000000000000${'10000000'}` }), 0.5, SLOW_MS);
    expect(a).toEqual(b);
    expect(a.keep).toBe(true);
  });

  it('samples 4xx responses like successes', () => {
    expect(sampleApiSpan(fakeSpan({ status: 404, traceId: HIGH_TRACE }), 0.5, SLOW_MS).keep).toBe(false);
    expect(sampleApiSpan(fakeSpan({ status: 404, traceId: LOW_TRACE }), 0.5, SLOW_MS)).toEqual({
      keep: true,
      weight: 2,
      slow: false,
    });
  });

  it('gives a kept span the weight 1 / rate', () => {
    expect(sampleApiSpan(fakeSpan({ traceId: LOW_TRACE }), 0.1, SLOW_MS).weight).toBeCloseTo(10, 10);
    expect(sampleApiSpan(fakeSpan({ traceId: LOW_TRACE }), 0.25, SLOW_MS).weight).toBe(4);
  });

  it('drops every ordinary span at rate 0 but keeps errors', () => {
    expect(sampleApiSpan(fakeSpan({ traceId: '00000000000000000000000000000000' }), 0, SLOW_MS)).toEqual({
      keep: false,
      weight: 0,
      slow: false,
    });
    expect(sampleApiSpan(fakeSpan({ status: 500 }), 0, SLOW_MS).keep).toBe(true);
  });

  it('keeps about the share of traces given by the rate', () => {
    let kept = 0;
    for (let i = 0; i < 1000; i++) {
      const tail = Math.floor(((i + 0.5) / 1000) * 0x1_0000_0000)
        .toString(16)
        .padStart(8, '0');
      if (sampleApiSpan(fakeSpan({ traceId: `${'a'.repeat(24)}${tail}` }), 0.3, SLOW_MS).keep) kept++;
    }
    expect(kept).toBe(300);
  });
});

describe('traceIdRatio', () => {
  it.each([
    ['00000000000000000000000000000000', 0],
    ['ffffffffffffffffffffffff00000000', 0],
    ['00000000000000000000000080000000', 0.5],
    ['00000000000000000000000040000000', 0.25],
    ['000000000000000000000000FFFFFFFF', 0xffffffff / 0x1_0000_0000],
  ])('maps %s to %d', (traceId, ratio) => {
    expect(traceIdRatio(traceId)).toBe(ratio);
  });

  it('stays below 1', () => {
    expect(traceIdRatio('ffffffffffffffffffffffffffffffff')).toBeLessThan(1);
  });

  it('maps a trace id that is not hex to 0', () => {
    expect(traceIdRatio('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz')).toBe(0);
    expect(traceIdRatio('')).toBe(0);
  });
});

describe('sampleApiSpan when the trace id came from the client', () => {
  function withRemoteParent(traceId: string, spanId: string): ReadableSpanLike {
    const span = fakeSpan({ traceId });
    return {
      ...span,
      spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
      parentSpanContext: { traceId, spanId: 'aaaaaaaaaaaaaaaa', traceFlags: 1, isRemote: true },
    };
  }

  it('decides by the local span id, so a chosen trace id cannot force a row in or out', () => {
    // The trace id alone would keep this request (low) and drop the other (high).
    expect(sampleApiSpan(withRemoteParent(LOW_TRACE, 'ffffffffffffffff'), 0.5, SLOW_MS).keep).toBe(false);
    expect(sampleApiSpan(withRemoteParent(HIGH_TRACE, '0000000000000001'), 0.5, SLOW_MS)).toEqual({
      keep: true,
      weight: 2,
      slow: false,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { decodeOtlpProtobuf } from '../../ingest/decode-otlp-protobuf.js';
import { IngestRequestError } from '../../ingest/ingest-request-error.js';
import { otlpToSpans } from '../../ingest/otlp-to-spans.js';
import { protectForeignAttributes } from '../../ingest/protect-foreign-attributes.js';
import { PrivacyPolicy } from '../../src/privacy/privacy-policy.js';
import { otlpRequest, toProtobuf } from '../helpers/otlp-payloads.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const PARENT = 'eee19b7ec3c1b173';

function request(span: Record<string, unknown>, resource: unknown[] = []) {
  return {
    resourceSpans: [
      {
        resource: { attributes: resource },
        scopeSpans: [{ scope: { name: 'my.scope', version: '1.0' }, spans: [span] }],
      },
    ],
  };
}

const base = {
  traceId: TRACE,
  spanId: SPAN,
  name: 'GET /',
  kind: 2,
  startTimeUnixNano: '1544712660000000000',
  endTimeUnixNano: '1544712661500000000',
};

describe('otlpToSpans', () => {
  it('converts a span of the OTLP/JSON example to a finished span', () => {
    const { spans, rejectedSpans } = otlpToSpans(
      request(
        {
          ...base,
          attributes: [{ key: 'my.span.attr', value: { stringValue: 'some value' } }],
          status: { code: 2, message: 'boom' },
          events: [
            {
              name: 'exception',
              timeUnixNano: '1544712661000000000',
              attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }],
            },
          ],
        },
        [{ key: 'service.name', value: { stringValue: 'my.service' } }],
      ),
    );
    expect(rejectedSpans).toBe(0);
    const [span] = spans;
    expect(span!.spanContext()).toMatchObject({ traceId: TRACE, spanId: SPAN });
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.startTime).toEqual([1544712660, 0]);
    expect(span!.duration).toEqual([1, 500_000_000]);
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span!.resource.attributes['service.name']).toBe('my.service');
    expect(span!.instrumentationScope).toEqual({ name: 'my.scope', version: '1.0' });
    expect(span!.events[0]!.attributes!['exception.message']).toBe('boom');
    expect(span!.parentSpanContext).toBeUndefined();
  });

  it('reads enums by name, integers as strings or numbers, and JSON doubles written as text', () => {
    const { spans } = otlpToSpans(
      request({
        ...base,
        kind: 'SPAN_KIND_CLIENT',
        status: { code: 'STATUS_CODE_OK' },
        attributes: [
          { key: 'a', value: { intValue: '200' } },
          { key: 'b', value: { intValue: 201 } },
          { key: 'c', value: { intValue: '9007199254740993' } },
          { key: 'd', value: { doubleValue: 'NaN' } },
          { key: 'e', value: { arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] } } },
          { key: 'f', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } } },
          { key: 'g', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '1' }] } } },
          { key: '__proto__', value: { stringValue: 'plain data' } },
          { key: 'empty', value: {} },
        ],
      }),
    );
    const [span] = spans;
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.status.code).toBe(SpanStatusCode.OK);
    const a = span!.attributes;
    expect(a.a).toBe(200);
    expect(a.b).toBe(201);
    expect(a.c).toBe('9007199254740993');
    expect(a.d).toBeNaN();
    expect(a.e).toEqual(['x', 'y']);
    expect(a.f).toBe('{"k":true}');
    expect(a.g).toBe('["x",1]');
    expect(Object.getOwnPropertyDescriptor(a, '__proto__')?.value).toBe('plain data');
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect('empty' in a).toBe(false);
  });

  it('takes the parent locality from the flags, else from whether the parent came along', () => {
    const local = otlpToSpans(request({ ...base, parentSpanId: PARENT, flags: 0x101 })).spans[0]!;
    expect(local.parentSpanContext).toMatchObject({ spanId: PARENT, isRemote: false });
    const remote = otlpToSpans(request({ ...base, parentSpanId: PARENT, flags: 0x301 })).spans[0]!;
    expect(remote.parentSpanContext?.isRemote).toBe(true);
    const unknownAbsent = otlpToSpans(request({ ...base, parentSpanId: PARENT })).spans[0]!;
    expect(unknownAbsent.parentSpanContext?.isRemote).toBe(true);
    const both = otlpToSpans({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { ...base, parentSpanId: PARENT },
                { ...base, spanId: PARENT },
              ],
            },
          ],
        },
      ],
    }).spans[0]!;
    expect(both.parentSpanContext?.isRemote).toBe(false);
    // Sent along by another service (a Collector's batch of a whole trace): still remote.
    const service = (name: string) => ({
      attributes: [{ key: 'service.name', value: { stringValue: name } }],
    });
    const across = otlpToSpans({
      resourceSpans: [
        { resource: service('b'), scopeSpans: [{ spans: [{ ...base, parentSpanId: PARENT }] }] },
        { resource: service('a'), scopeSpans: [{ spans: [{ ...base, spanId: PARENT }] }] },
      ],
    }).spans[0]!;
    expect(across.parentSpanContext?.isRemote).toBe(true);
    // The same resource in two entries is one process.
    const split = otlpToSpans({
      resourceSpans: [
        { resource: service('a'), scopeSpans: [{ spans: [{ ...base, parentSpanId: PARENT }] }] },
        { resource: service('a'), scopeSpans: [{ spans: [{ ...base, spanId: PARENT }] }] },
      ],
    }).spans[0]!;
    expect(split.parentSpanContext?.isRemote).toBe(false);
  });

  it('leaves out spans with invalid ids or times and says why', () => {
    const result = otlpToSpans({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                base,
                { ...base, traceId: 'abc' },
                { ...base, spanId: '0000000000000000' },
                { ...base, startTimeUnixNano: 'soon' },
              ],
            },
          ],
        },
      ],
    });
    expect(result.spans).toHaveLength(1);
    expect(result.rejectedSpans).toBe(3);
    expect(result.errorMessage).toBe('invalid trace or span id');
  });

  it('throws a 400 error for a body that is no export request', () => {
    for (const body of [null, [], 'x', { resourceSpans: 'x' }, { resourceSpans: [{ scopeSpans: {} }] }]) {
      expect(() => otlpToSpans(body)).toThrow(IngestRequestError);
    }
    expect(otlpToSpans({}).spans).toEqual([]);
  });

  it('reads the same spans from protobuf as from JSON', () => {
    const json = otlpRequest({ 'service.name': 's' }, [
      {
        scope: { name: 'x' },
        spans: [{ name: 'n', kind: 2, parentSpanId: PARENT, attributes: { 'http.method': 'GET', n: 3 } }],
      },
    ]);
    const fromJson = otlpToSpans(json).spans[0]!;
    const fromProtobuf = otlpToSpans(decodeOtlpProtobuf(toProtobuf(json))).spans[0]!;
    expect(fromProtobuf.spanContext()).toEqual(fromJson.spanContext());
    expect(fromProtobuf.parentSpanContext).toEqual(fromJson.parentSpanContext);
    expect(fromProtobuf.attributes).toEqual(fromJson.attributes);
    expect(fromProtobuf.startTime).toEqual(fromJson.startTime);
    expect(fromProtobuf.duration).toEqual(fromJson.duration);
  });
});

describe('otlpToSpans: values no SDK would send', () => {
  const RECEIVED = Date.UTC(2026, 5, 1, 12, 0, 0);
  const DAY = 24 * 60 * 60 * 1000;
  const at = (millis: number, plusNanos = 0n) => String(BigInt(millis) * 1_000_000n + plusNanos);
  const timed = (startMillis: number, endMillis = startMillis + 25) => ({
    ...base,
    startTimeUnixNano: at(startMillis),
    endTimeUnixNano: at(endMillis),
  });
  const convert = (spans: Record<string, unknown>[]) =>
    otlpToSpans({ resourceSpans: [{ scopeSpans: [{ spans }] }] }, { receivedAtMillis: RECEIVED });

  it('takes spans from 30 days before they were received to an hour after', () => {
    const result = convert([
      timed(RECEIVED - 30 * DAY + 1),
      timed(RECEIVED - 5 * 60_000),
      timed(RECEIVED + 60 * 60_000 - 100),
    ]);
    expect(result.rejectedSpans).toBe(0);
    expect(result.spans).toHaveLength(3);
  });

  it('leaves out a span that starts more than 30 days before it was received (1970), and says why', () => {
    const result = convert([timed(0), timed(RECEIVED - 30 * DAY - 1), timed(RECEIVED)]);
    expect(result.spans).toHaveLength(1);
    expect(result.rejectedSpans).toBe(2);
    expect(result.errorMessage).toBe('start time more than 30 days before the span was received');
  });

  it('leaves out a span that starts or ends more than an hour after it was received (2262), and says why', () => {
    const year2262 = [
      { ...base, startTimeUnixNano: '9200000000000000000', endTimeUnixNano: '9200000000025000000' },
    ];
    const result = convert([
      ...year2262,
      timed(RECEIVED + 60 * 60_000 + 1),
      timed(RECEIVED, RECEIVED + 2 * 60 * 60_000),
      timed(RECEIVED),
    ]);
    expect(result.spans).toHaveLength(1);
    expect(result.rejectedSpans).toBe(3);
    expect(result.errorMessage).toBe('start or end time more than an hour after the span was received');
  });

  const anyValue = (value: number | string) => {
    if (typeof value === 'string')
      return /^-?\d+$/.test(value) ? { intValue: value } : { stringValue: value };
    return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
  };
  const usage = (attributes: Record<string, number | string>) =>
    otlpToSpans(
      request({
        ...base,
        kind: 3,
        attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) })),
      }),
    ).spans[0]!.attributes;

  it('keeps token and record counts from 0 to 100 million per call', () => {
    const counts = {
      'gen_ai.usage.input_tokens': 100_000_000,
      'gen_ai.usage.output_tokens': 0,
      'gen_ai.usage.cache_read.input_tokens': 1200,
      'analytics.usage.records': 50,
    };
    expect(usage(counts)).toEqual(counts);
  });

  it.each([
    ['a negative output count', { 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': -5 }],
    ['an absurd input count', { 'gen_ai.usage.input_tokens': 1e15, 'gen_ai.usage.output_tokens': 30 }],
    ['a count past 2^53', { 'gen_ai.usage.input_tokens': '18446744073709551615' }],
    ['a fractional count', { 'gen_ai.usage.output_tokens': 2.5 }],
    [
      'a negative cache count',
      { 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.cache_read.input_tokens': -1 },
    ],
    ['an absurd record count', { 'analytics.usage.records': 100_000_001 }],
  ])('drops every count of a call with %s, saying why', (_, counts) => {
    const attributes = usage({ ...counts, 'gen_ai.request.model': 'gpt-4o' });
    for (const name of Object.keys(counts)) expect(attributes[name]).toBeUndefined();
    expect(attributes['analytics.usage.unknown_reason']).toBe('invalid_usage_count');
    expect(attributes['gen_ai.request.model']).toBe('gpt-4o');
  });
});

describe('protectForeignAttributes', () => {
  const policy = (overrides: Partial<ConstructorParameters<typeof PrivacyPolicy>[0]> = {}) =>
    new PrivacyPolicy({
      trustedProxies: [],
      ipMode: 'full',
      userIdMode: 'plain',
      hmacKey: undefined,
      ...overrides,
    });

  it('uses the peer as the client unless the peer is a trusted proxy', () => {
    const attributes = { 'network.peer.address': '10.0.0.2', 'client.address': '203.0.113.1' };
    expect(protectForeignAttributes(attributes, SpanKind.SERVER, policy())).toMatchObject({
      'analytics.client.address': '10.0.0.2',
      'client.address': '10.0.0.2',
    });
    expect(
      protectForeignAttributes(attributes, SpanKind.SERVER, policy({ trustedProxies: ['10.0.0.0/8'] })),
    ).toMatchObject({ 'analytics.client.address': '203.0.113.1', 'network.peer.address': '10.0.0.2' });
  });

  it('applies the IP and user id modes, and drops the old address names', () => {
    const out = protectForeignAttributes(
      { 'network.peer.address': '198.51.100.77', 'net.peer.ip': '198.51.100.77', 'enduser.id': 'bob' },
      SpanKind.SERVER,
      policy({ ipMode: 'truncate', userIdMode: 'hmac', hmacKey: 'k'.repeat(32) }),
    );
    expect(out['network.peer.address']).toBe('198.51.100.0');
    expect(out['net.peer.ip']).toBeUndefined();
    expect(out['enduser.id']).toBeUndefined();
    expect(out['enduser.pseudo.id']).toMatch(/^u_/);
    const none = protectForeignAttributes(
      { 'enduser.id': 'bob', 'enduser.pseudo.id': 'u_x', 'client.address': '203.0.113.4' },
      SpanKind.SERVER,
      policy({ userIdMode: 'none', ipMode: 'none' }),
    );
    expect(none).toEqual({});
  });

  it('keeps the address an auth event names, under the IP mode', () => {
    const out = protectForeignAttributes(
      { 'analytics.auth.event_type': 'login', 'client.address': '203.0.113.9' },
      SpanKind.INTERNAL,
      policy({ ipMode: 'truncate' }),
    );
    expect(out['analytics.client.address']).toBe('203.0.113.0');
  });
});

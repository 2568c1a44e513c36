import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CallerFolder } from '../../ingest/caller-folder.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { fakeSpan } from '../helpers/spans.js';

const TRACE = 'a'.repeat(32);

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

describe('CallerFolder', () => {
  it('returns a batch without callers as it is', () => {
    const batch = [client('1'.repeat(16), undefined, 'GET'), client('2'.repeat(16), '9'.repeat(16))];
    expect(new CallerFolder().fold(batch)).toBe(batch);
  });

  it('remembers the newest missing ancestors only, forgetting the oldest first', () => {
    const folder = new CallerFolder(1);
    const [p1, p2] = ['1'.repeat(16), '2'.repeat(16)];
    folder.fold([client('a'.repeat(16), p1, 'POST')]);
    folder.fold([client('b'.repeat(16), p2, 'POST')]);
    // p1 was forgotten when p2 came: it is a row of its own; p2 is still known as a caller.
    expect(ids(folder.fold([client(p1, undefined, 'POST'), client(p2, undefined, 'POST')]))).toEqual([p1]);
  });

  it('stops following parents of a cycle no SDK makes', () => {
    const [x, y] = ['3'.repeat(16), '4'.repeat(16)];
    const batch = [client(x, y, 'POST'), client(y, x, 'POST')];
    expect(ids(new CallerFolder().fold(batch))).toEqual([]);
  });
});

import { context } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { recordAuthEvent } from '../../src/helpers/record-auth-event.js';
import { setUser } from '../../src/helpers/set-user.js';
import { createProcessorHarness, recordsOf, type ProcessorHarness } from '../helpers/tracing.js';

let harness: ProcessorHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('recordAuthEvent', () => {
  it('records the event with the IP and user agent of the request being served', () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest({ 'analytics.client.address': '203.0.113.5' });
    context.with(ctx, () =>
      recordAuthEvent({ type: 'login_failed', userId: 'ada@example.com', error: 'bad password' }),
    );
    span.end();

    const [event] = recordsOf(harness.passed(), 'auth');
    expect(event!.attributes).toMatchObject({
      'analytics.auth.event_type': 'login_failed',
      'analytics.auth.success': false,
      'enduser.id': 'ada@example.com',
      'analytics.client.address': '203.0.113.5',
      'user_agent.original': 'harness/1.0',
      'error.message': 'bad password',
    });
    expect(event!.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('uses the IP and user agent it is given over the request', () => {
    harness = createProcessorHarness();
    const { ctx } = harness.startRequest();
    context.with(ctx, () => recordAuthEvent({ type: 'logout', ip: '192.0.2.1', userAgent: 'cli/2' }));
    expect(recordsOf(harness.passed(), 'auth')[0]!.attributes).toMatchObject({
      'analytics.client.address': '192.0.2.1',
      'user_agent.original': 'cli/2',
      'analytics.auth.success': true,
    });
  });

  it('redacts secrets in metadata and in the error before they become attributes', () => {
    harness = createProcessorHarness();
    recordAuthEvent({
      type: 'signup',
      success: false,
      error: new Error('rejected Bearer abc.def.ghi-token'),
      metadata: { password: 'hunter2', nested: { apiKey: 'k-123' }, plan: 'pro', note: 'token=xyz' },
    });
    const [event] = recordsOf(harness.passed(), 'auth');
    expect(JSON.parse(String(event!.attributes['analytics.auth.metadata']))).toEqual({
      password: 'REDACTED',
      nested: { apiKey: 'REDACTED' },
      plan: 'pro',
      note: 'token=REDACTED',
    });
    expect(event!.attributes['error.message']).toBe('rejected Bearer REDACTED');
    expect(JSON.stringify(event!.attributes)).not.toMatch(/hunter2|k-123|xyz|abc\.def/);
  });

  it('redacts secrets written as prose in metadata text and in the error', () => {
    harness = createProcessorHarness();
    recordAuthEvent({
      type: 'password_reset',
      error: 'password hunter3 rejected: api key is 8f14e45fceea',
      metadata: { note: 'my secret is swordfish', reason: 'password reset requested' },
    });
    const [event] = recordsOf(harness.passed(), 'auth');
    expect(event!.attributes['error.message']).toBe('password REDACTED rejected: api key is REDACTED');
    expect(JSON.parse(String(event!.attributes['analytics.auth.metadata']))).toEqual({
      note: 'my secret is REDACTED',
      reason: 'password reset requested',
    });
  });

  it('attributes the request, and its calls, to the user of a successful login', () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    harness.startCall(ctx).end();
    context.with(ctx, () => recordAuthEvent({ type: 'login', userId: 7 }));
    span.end();
    expect(recordsOf(harness.passed(), 'api')[0]!.attributes['enduser.id']).toBe('7');
    expect(recordsOf(harness.passed(), 'external')[0]!.attributes['enduser.id']).toBe('7');
  });

  it('does not attribute the request to the user of a failed login', () => {
    harness = createProcessorHarness();
    const { span, ctx } = harness.startRequest();
    context.with(ctx, () => recordAuthEvent({ type: 'login', userId: 'mallory', success: false }));
    span.end();
    expect(recordsOf(harness.passed(), 'api')[0]!.attributes['enduser.id']).toBeUndefined();
  });

  it('ignores an event without a valid type, with a warning, and never throws', () => {
    harness = createProcessorHarness();
    expect(() => recordAuthEvent({ type: '   ' })).not.toThrow();
    expect(() => recordAuthEvent(undefined as never)).not.toThrow();
    expect(recordsOf(harness.passed(), 'auth')).toHaveLength(0);
    expect(harness.warnings.filter((w) => w.includes('without a valid type'))).toHaveLength(2);
  });

  it('never throws on hostile metadata (cycles, throwing getters)', () => {
    harness = createProcessorHarness();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const throwing = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    expect(() => recordAuthEvent({ type: 'login', metadata: cyclic })).not.toThrow();
    expect(() => recordAuthEvent({ type: 'login', metadata: throwing })).not.toThrow();
    expect(
      JSON.parse(String(recordsOf(harness.passed(), 'auth')[0]!.attributes['analytics.auth.metadata'])),
    ).toEqual({
      a: 1,
      self: '[truncated]',
    });
  });

  it('is a no-op outside any SDK', () => {
    expect(() => recordAuthEvent({ type: 'login', userId: 'x' })).not.toThrow();
    expect(() => setUser('x')).not.toThrow();
  });
});

import { ROOT_CONTEXT, trace, type TextMapPropagator } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { compileHostPatterns, HostScopedPropagator } from '../../src/privacy/host-scoped-propagator.js';

describe('compileHostPatterns', () => {
  it.each([
    [['api.internal'], 'api.internal', true],
    [['api.internal'], 'API.internal'.toLowerCase(), true],
    [['api.internal'], 'evil-api.internal', false],
    [['*.svc.local'], 'users.svc.local', true],
    [['*.svc.local'], 'svc.local', false],
    [['*.svc.local'], 'evilsvc.local', false],
    [['*'], 'generativelanguage.googleapis.com', true],
    [[], 'localhost', false],
    [['[::1]'], '::1', true],
  ])('%j allows %s: %s', (patterns, host, allowed) => {
    expect(compileHostPatterns(patterns)(host)).toBe(allowed);
  });
});

describe('HostScopedPropagator', () => {
  const inner: TextMapPropagator = {
    inject: (_ctx, carrier) => Object.assign(carrier as object, { traceparent: 'x' }),
    extract: (ctx) => ctx,
    fields: () => ['traceparent'],
  };
  const spanTo = (host?: string) =>
    trace.setSpan(ROOT_CONTEXT, { attributes: host ? { 'server.address': host } : {} } as never);

  it('injects only for allowed hosts, and nothing without a host', () => {
    const propagator = new HostScopedPropagator(inner, ['api.internal']);
    const inject = (ctx: typeof ROOT_CONTEXT) => {
      const carrier: Record<string, string> = {};
      propagator.inject(ctx, carrier, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
      return carrier;
    };
    expect(inject(spanTo('api.internal'))).toEqual({ traceparent: 'x' });
    expect(inject(spanTo('api.openai.com'))).toEqual({});
    expect(inject(spanTo())).toEqual({});
    expect(inject(ROOT_CONTEXT)).toEqual({});
    expect(propagator.fields()).toEqual(['traceparent']);
  });
});

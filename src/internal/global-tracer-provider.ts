import { trace } from '@opentelemetry/api';

/**
 * Whether some tracer provider (the app's own NodeSDK, Sentry, an APM agent) is already
 * registered globally, in which case starting ours would fail to register and patch `http`
 * a second time.
 */
export function hasGlobalTracerProvider(): boolean {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = provider.getDelegate?.() ?? provider;
  return (delegate as { constructor?: { name?: string } })?.constructor?.name !== 'NoopTracerProvider';
}

import { trace } from '@opentelemetry/api';

/** Where `@opentelemetry/api` 1.x keeps its registered globals (shared by every copy of it). */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

function apiGlobals(): { trace?: unknown; diag?: unknown } | undefined {
  return (globalThis as { [API_GLOBAL]?: { trace?: unknown; diag?: unknown } })[API_GLOBAL];
}

/**
 * Whether some tracer provider (the app's own NodeSDK, Sentry, an APM agent) is already
 * registered globally, in which case starting ours would fail to register and patch `http`
 * a second time.
 */
export function hasGlobalTracerProvider(): boolean {
  if (apiGlobals()?.trace !== undefined) return true;
  // Fallback for an api copy with another global key: a delegate that is not the no-op one.
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = provider.getDelegate?.();
  return (
    delegate !== undefined &&
    (delegate as { constructor?: { name?: string } }).constructor?.name !== 'NoopTracerProvider'
  );
}

/** Whether a diag logger is registered already (an app's own setup: we leave it alone). */
export function hasGlobalDiagLogger(): boolean {
  return apiGlobals()?.diag !== undefined;
}

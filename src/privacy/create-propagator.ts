import type { TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { createLogger } from '../support/diag.js';
import { HostScopedPropagator } from './host-scoped-propagator.js';

const logger = createLogger('propagation');

/**
 * The propagator the register entry installs: `OTEL_PROPAGATORS` (`tracecontext` and
 * `baggage`, the default; `none`), injecting only to `propagateHosts`. `null` turns
 * propagation off, as NodeSDK reads it.
 */
export function createPropagator(
  otelPropagators: string | undefined,
  propagateHosts: readonly string[],
): TextMapPropagator | null {
  const names = (otelPropagators ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n.length > 0);
  if (names.includes('none')) return null;
  const propagators: TextMapPropagator[] = [];
  for (const name of names.length > 0 ? [...new Set(names)] : ['tracecontext', 'baggage']) {
    if (name === 'tracecontext') propagators.push(new W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new W3CBaggagePropagator());
    else
      logger.warn(
        `OTEL_PROPAGATORS: ${JSON.stringify(name)} is not supported by the register entry; ignored`,
      );
  }
  if (propagators.length === 0) return null;
  return new HostScopedPropagator(new CompositePropagator({ propagators }), propagateHosts);
}

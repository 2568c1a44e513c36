import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { ATTR_SERVER_ADDRESS } from '@opentelemetry/semantic-conventions';

/**
 * Wraps a propagator so that outbound calls carry trace context (`traceparent`, `baggage`)
 * only to allowed hosts: the app's own services, not Gemini, OpenAI or any other third
 * party, which would otherwise learn trace ids and whatever the app put in baggage. Inbound
 * extraction is unchanged.
 *
 * The host is the `server.address` of the client span being injected, which both the http
 * and the undici instrumentations set before they inject. No span, or a span that records
 * nothing (sampled out by another SDK's sampler), means no host, and nothing is sent.
 */
export class HostScopedPropagator implements TextMapPropagator {
  readonly #inner: TextMapPropagator;
  readonly #allows: (host: string) => boolean;

  /** `hosts`: exact names, `*.example.com` (subdomains only), or `*` for every host. */
  constructor(inner: TextMapPropagator, hosts: readonly string[]) {
    this.#inner = inner;
    this.#allows = compileHostPatterns(hosts);
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const attributes = (trace.getSpan(context) as { attributes?: Record<string, unknown> } | undefined)
      ?.attributes;
    const host = attributes?.[ATTR_SERVER_ADDRESS];
    if (typeof host === 'string' && this.#allows(host.toLowerCase())) {
      this.#inner.inject(context, carrier, setter);
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.#inner.extract(context, carrier, getter);
  }

  fields(): string[] {
    return this.#inner.fields();
  }
}

/** A matcher for host patterns; names are compared lower-cased, without brackets. */
export function compileHostPatterns(patterns: readonly string[]): (host: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const pattern of patterns) {
    const p = pattern.toLowerCase().replace(/^\[|\]$/g, '');
    if (p.startsWith('*.')) suffixes.push(p.slice(1));
    else exact.add(p);
  }
  return (host) => {
    const h = host.replace(/^\[|\]$/g, '');
    return exact.has(h) || suffixes.some((suffix) => h.endsWith(suffix) && h.length > suffix.length);
  };
}

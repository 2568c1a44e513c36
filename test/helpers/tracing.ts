import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import {
  AnalyticsSpanProcessor,
  type AnalyticsSpanProcessorConfig,
} from '../../src/processors/analytics-span-processor.js';
import { captureDiagWarnings } from './diag-warnings.js';

export const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
export const UNDICI_SCOPE = '@opentelemetry/instrumentation-undici';

/** A real TracerProvider with the analytics processor in front of an in-memory exporter. */
export interface ProcessorHarness {
  provider: TracerProvider;
  processor: AnalyticsSpanProcessor;
  exporter: InMemorySpanExporter;
  /** Spans the processor passed on. */
  passed(): ReadableSpan[];
  /** Starts a SERVER span as instrumentation-http does, and the request context around it. */
  startRequest(attributes?: Record<string, string | number>): { span: Span; ctx: Context };
  /** Starts an outbound CLIENT span as instrumentation-undici does, in `ctx`. */
  startCall(ctx: Context, attributes?: Record<string, string | number>): Span;
  warnings: string[];
  close(): Promise<void>;
}

/** Sets up the harness and registers it globally (the helpers use the global tracer). */
export function createProcessorHarness(
  options: Omit<AnalyticsSpanProcessorConfig, 'spanProcessor'> = {},
  providerOptions: { generateTraceId?: () => string } = {},
): ProcessorHarness {
  const exporter = new InMemorySpanExporter();
  const processor = new AnalyticsSpanProcessor({
    ...options,
    spanProcessor: new SimpleSpanProcessor({ exporter }),
  });
  let spanCounter = 0;
  const provider = new TracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [processor],
    ...(providerOptions.generateTraceId && {
      idGenerator: {
        generateTraceId: providerOptions.generateTraceId,
        generateSpanId: () => (++spanCounter).toString(16).padStart(16, '0'),
      },
    }),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  const { warnings, stop: stopCapture } = captureDiagWarnings();

  return {
    provider,
    processor,
    exporter,
    warnings,
    passed: () => exporter.getFinishedSpans(),
    startRequest(attributes = {}) {
      const span = provider.getTracer(HTTP_SCOPE).startSpan(
        'GET',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': 'GET',
            'url.path': '/api/items/1',
            'network.peer.address': '198.51.100.7',
            'user_agent.original': 'harness/1.0',
            ...attributes,
          },
        },
        propagation.extract(ROOT_CONTEXT, {}),
      );
      const ctx = setRPCMetadata(trace.setSpan(ROOT_CONTEXT, span), { type: RPCType.HTTP, span });
      return { span, ctx };
    },
    startCall(ctx, attributes = {}) {
      return provider.getTracer(UNDICI_SCOPE).startSpan(
        'POST',
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': 'POST',
            'server.address': 'api.brightdata.com',
            'server.port': 443,
            'url.full': 'https://api.brightdata.com/request',
            'url.path': '/request',
            ...attributes,
          },
        },
        ctx,
      );
    },
    async close() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      stopCapture();
    },
  };
}

/** The passed-on span of a given record type. */
export function recordsOf(spans: ReadableSpan[], record: 'api' | 'auth' | 'external'): ReadableSpan[] {
  return spans.filter((s) => s.attributes['analytics.record'] === record);
}

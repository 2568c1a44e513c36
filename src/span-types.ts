/**
 * Structural types for the parts of the OpenTelemetry trace SDK this package touches.
 *
 * The processors and the exporter never import a trace SDK at run time: these shapes are
 * satisfied by `@opentelemetry/sdk-trace` 3.x and by `@opentelemetry/sdk-trace-base` 2.x
 * alike, so the pieces compose into either line's pipeline (the way Kysely describes `pg`'s
 * `Pool` instead of importing it).
 */
import type {
  Attributes,
  AttributeValue,
  Context,
  HrTime,
  Link,
  SpanContext,
  SpanKind,
  SpanStatus,
} from '@opentelemetry/api';

/** A span event (`exception` events carry `exception.message`). */
export interface TimedEventLike {
  readonly time: HrTime;
  readonly name: string;
  readonly attributes?: Attributes;
  readonly droppedAttributesCount?: number;
}

/** A finished span, as span processors and exporters receive it. */
export interface ReadableSpanLike {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): SpanContext;
  readonly parentSpanContext?: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEventLike[];
  readonly duration: HrTime;
  readonly ended: boolean;
  readonly resource: { readonly attributes: Attributes };
  readonly instrumentationScope: { readonly name: string; readonly version?: string | undefined };
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
}

/** A live span, as `SpanProcessor.onStart` receives it. */
export interface SpanLike extends ReadableSpanLike {
  setAttribute(key: string, value: AttributeValue): unknown;
  isRecording(): boolean;
}

/** The span processor contract of both SDK lines. */
export interface SpanProcessorLike {
  onStart(span: SpanLike, parentContext: Context): void;
  onEnd(span: ReadableSpanLike): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** `ExportResult` of `@opentelemetry/core`: code 0 is SUCCESS, 1 is FAILED. */
export interface ExportResultLike {
  code: number;
  error?: Error;
}

/** The span exporter contract of both SDK lines. */
export interface SpanExporterLike {
  export(spans: ReadableSpanLike[], resultCallback: (result: ExportResultLike) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

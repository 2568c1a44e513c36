import type { Attributes } from '@opentelemetry/api';
import type { UndiciInstrumentationConfig } from '@opentelemetry/instrumentation-undici';
import {
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';
import { resolveConfig, type AnalyticsConfig } from '../config.js';
import { createRedactor } from '../privacy/create-redactor.js';
import { ServiceCatalog } from '../pricing/service-catalog.js';
import {
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
} from '../semconv.js';
import { captureKindOf } from '../usage/capture-kind-of.js';
import { captureOf, startCapture, subscribeUndiciBodies, tapUndiciHandler } from '../usage/usage-capture.js';

/** The parts of undici's request object the hooks read. */
interface UndiciRequest {
  origin: string | URL;
  method: string;
  path: string;
  contentLength?: number | null;
  body?: unknown;
}

/**
 * Hooks for `@opentelemetry/instrumentation-undici` (global `fetch` and the `undici`
 * package): the instrumentation does not redact `url.full` (Gemini takes its key as `?key=`),
 * so the redacted URL and query replace it before the span starts; request size comes from
 * undici's own content length, response size from `Content-Length` when the server sends one.
 * Responses of LLM APIs (by the service catalog) are read for token usage as they pass, from
 * the request's own undici handler (see `tapUndiciHandler`) and undici's diagnostics channels,
 * and their usage put on the span before it ends.
 */
export function createUndiciInstrumentationConfig(
  options: AnalyticsConfig = {},
): UndiciInstrumentationConfig {
  const config = resolveConfig(options);
  const redactor = createRedactor(config);
  const catalog = new ServiceCatalog(config.services);
  // Before the instrumentation subscribes (its constructor takes this config): see there.
  subscribeUndiciBodies();

  return {
    startSpanHook(request: UndiciRequest): Attributes {
      const attributes: Attributes = {};
      const url = requestUrl(request);
      if (url !== undefined) {
        attributes[ATTR_URL_FULL] = redactor.redactUrl(url);
        const q = url.indexOf('?');
        attributes[ATTR_URL_QUERY] =
          q !== -1 && q + 1 < url.length ? `?${redactor.redactQuery(url.slice(q + 1))}` : '';
      }
      if (typeof request.contentLength === 'number' && request.contentLength >= 0) {
        attributes[ATTR_HTTP_REQUEST_BODY_SIZE] = request.contentLength;
      } else if (request.body === null || request.body === undefined) {
        attributes[ATTR_HTTP_REQUEST_BODY_SIZE] = 0;
      } else if (request.body instanceof Uint8Array) {
        // undici's own request() sends a string or buffer body without a content-length
        // header (fetch adds one); it holds the body as a Buffer.
        attributes[ATTR_HTTP_REQUEST_BODY_SIZE] = request.body.byteLength;
      }
      return attributes;
    },

    requestHook(span, request: UndiciRequest) {
      // Host, port and path as the instrumentation already parsed them onto the span.
      const attributes = (span as unknown as { attributes?: Attributes }).attributes;
      const host = attributes?.[ATTR_SERVER_ADDRESS];
      const port = attributes?.[ATTR_SERVER_PORT];
      const path = attributes?.[ATTR_URL_PATH];
      if (typeof host !== 'string' || typeof path !== 'string') return;
      const kind = captureKindOf(
        catalog,
        host,
        typeof port === 'number' ? port : undefined,
        request.method,
        path,
      );
      if (kind === undefined) return;
      if (kind.kind === 'usage') span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, kind.provider);
      // Tapped even when a channel publishes too, and captured even when the tap fails (a
      // late undici 7 or an 8 publishes its chunks): which undici carries the request is not
      // known in advance. The capture keeps one source's chunks; a body neither delivers ends
      // as `body_not_observed`.
      tapUndiciHandler(request);
      startCapture(request, span, kind);
    },

    responseHook(span, { request, response }) {
      const headers = response.headers as unknown as (Buffer | string)[];
      const capture = captureOf(request);
      for (let i = 0; i + 1 < headers.length; i += 2) {
        const name = headers[i]!.toString().toLowerCase();
        if (name === 'content-length') {
          const value = headers[i + 1]!.toString();
          if (/^\d+$/.test(value)) span.setAttribute(ATTR_HTTP_RESPONSE_BODY_SIZE, Number(value));
        } else if (name === 'content-encoding' && capture) {
          capture.body.setEncoding(headers[i + 1]!.toString());
        } else if (name === 'content-type' && capture) {
          capture.body.setContentType(headers[i + 1]!.toString());
        }
      }
    },
  };
}

/**
 * The URL a request goes to, as undici sends it: its origin and its path (which starts with
 * `/` and has no fragment), joined without a parse; anything else through `URL`, or
 * `undefined` when that fails too (the instrumentation gives up on such a request: no span).
 */
function requestUrl(request: UndiciRequest): string | undefined {
  const { origin, path } = request;
  if (typeof origin === 'string' && typeof path === 'string' && path.startsWith('/') && !path.includes('#')) {
    return origin.endsWith('/') ? `${origin.slice(0, -1)}${path}` : `${origin}${path}`;
  }
  try {
    return new URL(request.path, request.origin).toString();
  } catch {
    return undefined;
  }
}

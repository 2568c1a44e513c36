import type { Attributes } from '@opentelemetry/api';
import type { UndiciInstrumentationConfig } from '@opentelemetry/instrumentation-undici';
import { ATTR_URL_FULL, ATTR_URL_QUERY } from '@opentelemetry/semantic-conventions';
import { resolveConfig, type AnalyticsConfig } from '../config.js';
import { Redactor } from '../internal/redactor.js';
import { ATTR_HTTP_REQUEST_BODY_SIZE, ATTR_HTTP_RESPONSE_BODY_SIZE } from '../semconv.js';

/** The parts of undici's request object the hooks read. */
interface UndiciRequest {
  origin: string | URL;
  path: string;
  contentLength?: number | null;
  body?: unknown;
}

/**
 * Hooks for `@opentelemetry/instrumentation-undici` (global `fetch` and the `undici`
 * package): the instrumentation does not redact `url.full` (Gemini takes its key as `?key=`),
 * so the redacted URL and query replace it before the span starts; request size comes from
 * undici's own content length, response size from `Content-Length` when the server sends one.
 */
export function createUndiciInstrumentationConfig(
  options: AnalyticsConfig = {},
): UndiciInstrumentationConfig {
  const config = resolveConfig(options);
  const redactor = new Redactor({ extraKeys: config.redactKeys });

  return {
    startSpanHook(request: UndiciRequest): Attributes {
      const attributes: Attributes = {};
      try {
        const url = new URL(request.path, request.origin);
        attributes[ATTR_URL_FULL] = redactor.redactUrl(url.toString());
        attributes[ATTR_URL_QUERY] =
          url.search.length > 1 ? `?${redactor.redactQuery(url.search.slice(1))}` : '';
      } catch {
        // The instrumentation gives up on such a request too: no span, nothing to redact.
      }
      if (typeof request.contentLength === 'number' && request.contentLength >= 0) {
        attributes[ATTR_HTTP_REQUEST_BODY_SIZE] = request.contentLength;
      } else if (request.body === null || request.body === undefined) {
        attributes[ATTR_HTTP_REQUEST_BODY_SIZE] = 0;
      }
      return attributes;
    },

    responseHook(span, { response }) {
      const headers = response.headers as unknown as (Buffer | string)[];
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (headers[i]!.toString().toLowerCase() !== 'content-length') continue;
        const value = headers[i + 1]!.toString();
        if (/^\d+$/.test(value)) span.setAttribute(ATTR_HTTP_RESPONSE_BODY_SIZE, Number(value));
        return;
      }
    },
  };
}

import { errorMonitor } from 'node:events';
import { ClientRequest, IncomingMessage, ServerResponse, type RequestOptions } from 'node:http';
import type { Attributes, Span } from '@opentelemetry/api';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_URL_FULL,
  ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';
import { resolveConfig, type AnalyticsConfig } from '../config.js';
import { PrivacyPolicy } from '../privacy/privacy-policy.js';
import { createRedactor } from '../privacy/create-redactor.js';
import { ServiceCatalog } from '../pricing/service-catalog.js';
import { captureKindOf } from '../usage/capture-kind-of.js';
import { captureOf, finishCapture, pushChunk, startCapture } from '../usage/usage-capture.js';
import { trackServedConnection } from '../lifecycle/stop-serving.js';
import {
  ATTR_ANALYTICS_CLIENT_ADDRESS,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_REQUEST_HEADER_PREFIX,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
} from '../semconv.js';
import {
  countReadBytes,
  countWrittenBytes,
  countedBytes,
  declaredRequestBodySize,
  declaredResponseBodySize,
} from './body-size.js';
import { recordExpressOutcome } from './frameworks/record-express-outcome.js';
import { describeUnfinishedResponse, responseFinished, watchResponseFinish } from './unfinished-response.js';

/** Longest captured header value; longer values are cut. */
const MAX_HEADER_VALUE_LENGTH = 1024;

/**
 * Hooks for `@opentelemetry/instrumentation-http` that put on each span, before it ends,
 * everything a row needs: redacted query strings and outbound URLs (set before the span
 * starts, so secrets never become attributes), request and response body sizes in bytes
 * (chunked bodies included), allow-listed headers (sensitive values redacted), what the client
 * got of a response that did not finish (see `describeUnfinishedResponse`), and the client
 * address as the trusted proxies tell it (by default the socket peer), kept as the privacy
 * options say. It also notes each request's connection, for the register entry's signal path.
 *
 * ```ts
 * new HttpInstrumentation(createHttpInstrumentationConfig({ captureHeaders: ['x-request-id'] }))
 * ```
 */
export function createHttpInstrumentationConfig(options: AnalyticsConfig = {}): HttpInstrumentationConfig {
  const config = resolveConfig(options);
  const redactor = createRedactor(config);
  const catalog = new ServiceCatalog(config.services);
  const capture = config.captureHeaders.map((h) => h.toLowerCase());
  const privacy = new PrivacyPolicy(config);

  return {
    startIncomingSpanHook(request: IncomingMessage): Attributes {
      // Returned attributes replace the instrumentation's, so its `client.address` (the first
      // X-Forwarded-For entry, which any client can write) never reaches the span.
      const remote = request.socket?.remoteAddress;
      const { client, peer } = privacy.requestAddresses(remote, request.headers);
      // Only what differs from the instrumentation's own values, so the common request (no
      // proxy headers, addresses kept as they are) adds no attribute at all.
      const attributes: Attributes = {};
      if (client !== remote) attributes[ATTR_ANALYTICS_CLIENT_ADDRESS] = client;
      if (
        client !== remote ||
        request.headers['x-forwarded-for'] !== undefined ||
        request.headers.forwarded !== undefined
      ) {
        attributes[ATTR_CLIENT_ADDRESS] = client;
      }
      if (peer !== remote) attributes[ATTR_NETWORK_PEER_ADDRESS] = peer;
      const url = request.url ?? '';
      const q = url.indexOf('?');
      if (q !== -1) {
        const hash = url.indexOf('#', q);
        const query = url.slice(q + 1, hash === -1 ? undefined : hash);
        if (query.length > 0) attributes[ATTR_URL_QUERY] = redactor.redactQuery(query);
      }
      for (const name of capture) {
        const value = request.headers[name];
        if (value === undefined) continue;
        const values = Array.isArray(value) ? value : [value];
        attributes[`${ATTR_HTTP_REQUEST_HEADER_PREFIX}${name}`] = values.map((v) =>
          redactor.redactHeader(name, v).slice(0, MAX_HEADER_VALUE_LENGTH),
        );
      }
      return attributes;
    },

    startOutgoingSpanHook(options: RequestOptions): Attributes {
      return { [ATTR_URL_FULL]: redactor.redactUrl(outgoingUrl(options)) };
    },

    requestHook(span, request) {
      if (request instanceof IncomingMessage) {
        trackServedConnection(request.socket);
        if (declaredRequestBodySize(request.headers) === undefined) countReadBytes(request);
      } else if (request instanceof ClientRequest) {
        countWrittenBytes(request);
        readUsageOf(request, span, catalog);
      }
    },

    responseHook(span, response) {
      if (response instanceof ServerResponse) {
        countWrittenBytes(response);
        watchResponseFinish(response, span);
      } else if (response instanceof IncomingMessage) {
        const request = clientRequestOf(response);
        const usage = captureOf(request);
        if (request && usage) {
          usage.body.setEncoding(headerValue(response.headers['content-encoding']));
          usage.body.setContentType(response.headers['content-type']);
          countReadBytes(response, (chunk) => pushChunk(request, 'tap', chunk));
          // Before the instrumentation's own monitor ends the span; a monitor, so an app
          // without an 'error' listener still gets the error it would have got.
          response.on(errorMonitor, () => finishCapture(request, true));
        } else if (
          declaredResponseBodySize(
            clientRequestOf(response)?.method,
            response.statusCode,
            response.headers,
          ) === undefined
        ) {
          countReadBytes(response);
        }
      }
    },

    applyCustomAttributesOnSpan(span, request, response) {
      if (request instanceof IncomingMessage && response instanceof ServerResponse) {
        const requestSize = countedBytes(request) ?? declaredRequestBodySize(request.headers);
        if (requestSize !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_BODY_SIZE, requestSize);
        const responseSize = countedBytes(response);
        if (responseSize !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_BODY_SIZE, responseSize);
        if (!responseFinished(response)) describeUnfinishedResponse(span, request, response);
        recordExpressOutcome(span, request);
      } else if (request instanceof ClientRequest && response instanceof IncomingMessage) {
        const requestSize = countedBytes(request);
        if (requestSize !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_BODY_SIZE, requestSize);
        const responseSize =
          declaredResponseBodySize(request.method, response.statusCode, response.headers) ??
          countedBytes(response);
        if (responseSize !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_BODY_SIZE, responseSize);
        finishCapture(request);
      }
    },
  };
}

/**
 * Starts reading the response of an outbound call to an LLM API (by the service catalog) for
 * token usage: axios and other `http`-based clients get it on every Node version.
 */
function readUsageOf(request: ClientRequest, span: Span, catalog: ServiceCatalog): void {
  const hostHeader = headerValue(request.getHeader('host') as string | string[] | undefined) ?? request.host;
  const colon = hostHeader.lastIndexOf(':');
  const hasPort = colon !== -1 && /^\d+$/.test(hostHeader.slice(colon + 1));
  const host = hasPort ? hostHeader.slice(0, colon) : hostHeader;
  const port = hasPort ? Number(hostHeader.slice(colon + 1)) : undefined;
  const path = request.path.split('?')[0] ?? '/';
  const kind = captureKindOf(catalog, host.replace(/^\[|\]$/g, ''), port, request.method, path);
  if (kind === undefined) return;
  if (kind.kind === 'usage') span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, kind.provider);
  startCapture(request, span, kind);
  // A body that ends is read in applyCustomAttributesOnSpan. One that breaks off (or never
  // comes) ends the span without it: read what arrived when the request closes, which this
  // listener, added before the instrumentation's, sees first; and never leave bytes held.
  request.once('close', () => {
    const response = (request as ClientRequest & { res?: IncomingMessage | null }).res;
    finishCapture(request, response?.complete !== true);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The request a client-side response answers (Node sets `req` on it, untyped). */
function clientRequestOf(response: IncomingMessage): ClientRequest | undefined {
  return (response as IncomingMessage & { req?: ClientRequest }).req;
}

/** The absolute URL of an outgoing `http.request`, as instrumentation-http builds `url.full`. */
function outgoingUrl(options: RequestOptions): string {
  const protocol = options.protocol ?? 'http:';
  let host =
    (typeof options.host === 'string' && options.host) ||
    (typeof options.hostname === 'string' && options.hostname) ||
    'localhost';
  const port = options.port === undefined || options.port === null ? '' : String(options.port);
  if (!host.includes(':') && port && port !== '80' && port !== '443') host += `:${port}`;
  const auth = options.auth ? 'user@' : '';
  return `${protocol}//${auth}${host}${options.path ?? '/'}`;
}

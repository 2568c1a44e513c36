import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { ServiceCatalog, ServiceDefinition } from './service-catalog.js';

/**
 * The catalog's service for an outbound call, from its `server.address`, `server.port`, path
 * and method; `undefined` when it names no host or the host is not in the catalog.
 */
export function serviceOfCall(
  catalog: ServiceCatalog,
  attributes: Attributes,
): ServiceDefinition | undefined {
  const host = attributes[ATTR_SERVER_ADDRESS];
  if (typeof host !== 'string') return undefined;
  const port = attributes[ATTR_SERVER_PORT];
  const method = attributes[ATTR_HTTP_REQUEST_METHOD];
  return catalog.match(
    host,
    typeof port === 'number' ? port : undefined,
    callPath(attributes),
    typeof method === 'string' ? method : undefined,
  );
}

/** The path of an outbound call: `url.path` (undici), else parsed from `url.full` (http). */
function callPath(attributes: Attributes): string {
  const path = attributes[ATTR_URL_PATH];
  if (typeof path === 'string') return path;
  const full = attributes[ATTR_URL_FULL];
  if (typeof full !== 'string') return '/';
  try {
    return new URL(full).pathname;
  } catch {
    return '/';
  }
}

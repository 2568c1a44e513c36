import { createHash } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';

/**
 * What tells one process's spans from another's among those received: its resource (service
 * name and instance, host, process...), all of its attributes, as a short digest that costs
 * little to keep. Equal for the same attributes in any order.
 */
export function resourceIdentity(attributes: Attributes): string {
  const entries = Object.keys(attributes)
    .sort()
    .map((name) => [name, attributes[name]]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 16);
}

import type { Attributes } from '@opentelemetry/api';
import { readCallUsage, type CallUsage } from './call-usage.js';

/** The usage a call's span attributes report (OTel GenAI names and ours). */
export function callUsageOfAttributes(attributes: Attributes): CallUsage {
  return readCallUsage((attribute) => attributes[attribute]);
}

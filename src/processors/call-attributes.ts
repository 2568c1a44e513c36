import type { Attributes, HrTime } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import { callUsageOfAttributes } from '../pricing/call-usage-of-attributes.js';
import { estimateCost } from '../pricing/estimate-cost.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { ServiceCatalog } from '../pricing/service-catalog.js';
import { serviceOfCall } from '../pricing/service-of-call.js';
import {
  ATTR_ANALYTICS_COST_MODEL,
  ATTR_ANALYTICS_COST_UNKNOWN_REASON,
  ATTR_ANALYTICS_COST_USD,
  ATTR_ANALYTICS_PRICE_CHECKED_AT,
  ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM,
  ATTR_ANALYTICS_PRICE_SOURCE,
  ATTR_ANALYTICS_PRICE_TABLE_VERSION,
  ATTR_ANALYTICS_RECORD,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_SERVICE_PEER_NAME,
  RECORD_EXTERNAL,
} from '../semconv.js';

/** What {@link callAttributes} prices and names calls with, fixed for a processor's life. */
export interface CallPricing {
  readonly catalog: ServiceCatalog;
  readonly prices: PriceTable;
  /** `enduser.id`, or `enduser.pseudo.id` when user ids are pseudonyms. */
  readonly userAttribute: string;
}

/**
 * What an outbound call is completed with before it becomes a row: its record type, service,
 * GenAI provider, cost and price provenance, and its user, over `extra` (what the open-call
 * sweep adds). Pure: `own` is the call's attributes under our names (an HTTP attempt's as they
 * are, another call's adopted by `adoptGenAiNames`), read but never changed; `startTime`
 * picks the prices in force; `user` is set unless the call names one under `userAttribute`.
 */
export function callAttributes(
  own: Attributes,
  startTime: HrTime,
  extra: Attributes,
  user: string | undefined,
  { catalog, prices, userAttribute }: CallPricing,
): Attributes {
  // What the sweep adds (an unfinished response) is part of the verdict on its cost.
  const attributes = Object.keys(extra).length === 0 ? own : { ...own, ...extra };
  const status = attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
  const service = serviceOfCall(catalog, attributes);
  const cost = estimateCost(
    callUsageOfAttributes(attributes),
    service,
    typeof status === 'number' ? status : undefined,
    prices,
    new Date(hrTimeToMilliseconds(startTime)),
  );
  const out: Attributes = { ...extra, [ATTR_ANALYTICS_RECORD]: RECORD_EXTERNAL };
  if (service) out[ATTR_SERVICE_PEER_NAME] = service.name;
  if (service?.genAiProvider && attributes[ATTR_GEN_AI_PROVIDER_NAME] === undefined) {
    out[ATTR_GEN_AI_PROVIDER_NAME] = service.genAiProvider;
  }
  if (cost.usd !== null) out[ATTR_ANALYTICS_COST_USD] = cost.usd;
  if (cost.model) out[ATTR_ANALYTICS_COST_MODEL] = cost.model;
  if (cost.unknownReason) out[ATTR_ANALYTICS_COST_UNKNOWN_REASON] = cost.unknownReason;
  if (cost.priceSource) out[ATTR_ANALYTICS_PRICE_SOURCE] = cost.priceSource;
  if (cost.priceCheckedAt) out[ATTR_ANALYTICS_PRICE_CHECKED_AT] = cost.priceCheckedAt;
  if (cost.priceEffectiveFrom) out[ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM] = cost.priceEffectiveFrom;
  if (cost.priceTableVersion) out[ATTR_ANALYTICS_PRICE_TABLE_VERSION] = cost.priceTableVersion;
  if (user !== undefined && attributes[userAttribute] === undefined) out[userAttribute] = user;
  return out;
}

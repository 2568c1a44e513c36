import { sql, type RawBuilder } from 'kysely';
import type { HourSplit } from './split-at-hours.js';
import { during } from './time-sql.js';

// The report's counts, sums and costs are sums of sums: each function below gives rows with the
// same columns whether they come from an hourly rollup (an hour's rows summed already) or from
// raw rows (one row each), so one query over them answers the same from either, and exactly.
// The raw side keeps the dashboard views' definitions (route, is_error, model, tokens); the
// rollup triggers in schema.sql compute theirs with the same expressions.

/**
 * API requests as (`time`, `route`, `requests`, `errors`), weighted by `sample_weight` like
 * every count of the report: the rollup rows of the whole hours and the raw rows of the
 * partial ones.
 */
export function countedApiRows(split: HourSplit): RawBuilder<unknown> {
  const raw = (where: RawBuilder<unknown>) => sql`
    select time, route, sample_weight as requests,
           case when is_error then sample_weight else 0 end as errors
    from analytics_api_requests where ${where}`;
  const parts = split.partial.map((range) => raw(during(range)));
  if (split.wholeHours !== null) {
    parts.unshift(
      sql`
    select hour as time, coalesce(method || ' ', '') || endpoint as route, requests, errors
    from analytics_api_hourly where ${during(split.wholeHours, 'hour')} and endpoint is not null`,
      // A rollup keeps the endpoint, not the path the view's route falls back to when there is
      // none: those rows (rare: the exporter always sets an endpoint) come raw, by the
      // (endpoint, time) index.
      raw(sql`endpoint is null and ${during(split.wholeHours)}`),
    );
  }
  return sql.join(parts, sql` union all `);
}

/** Authentication events as (`time`, `event_type`, `success`, `events`). */
export function countedAuthRows(split: HourSplit): RawBuilder<unknown> {
  const parts = split.partial.map(
    (range) => sql`
    select time, event_type, success, 1::bigint as events
    from authentication_log where ${during(range)}`,
  );
  if (split.wholeHours !== null) {
    parts.unshift(sql`
    select hour as time, event_type, success, events
    from analytics_auth_hourly where ${during(split.wholeHours, 'hour')}`);
  }
  return sql.join(parts, sql` union all `);
}

/**
 * External calls as (`time`, `service`, `model`, `calls`, `errors`, `cost`, `input_tokens`,
 * `output_tokens`). A raw row's missing cost or token count is null, a rollup's 0: the report
 * only ever sums them, where the two agree.
 */
export function countedExternalRows(split: HourSplit): RawBuilder<unknown> {
  const parts = split.partial.map(
    (range) => sql`
    select time, service, model, 1::bigint as calls, (case when is_error then 1 else 0 end)::bigint as errors,
           cost_estimate as cost, input_tokens, output_tokens
    from analytics_external_calls where ${during(range)}`,
  );
  if (split.wholeHours !== null) {
    parts.unshift(sql`
    select hour as time, service, model, calls, errors, cost_usd as cost, input_tokens, output_tokens
    from analytics_external_hourly where ${during(split.wholeHours, 'hour')}`);
  }
  return sql.join(parts, sql` union all `);
}

// @ts-check
/**
 * Realistic synthetic rows for the three log tables, made by PostgreSQL itself
 * (generate_series), so the dashboard tests and the benchmark share one generator and a few
 * million rows take seconds: traffic over a dozen routes with a daily rhythm, mostly-2xx
 * statuses with 4xx/5xx tails, long-tailed latencies, sampled rows (sample_weight 4), a
 * thousand users, auth events with a brute-force burst from one address, and LLM, scraping
 * and platform calls with models, token counts and costs in metadata as the exporter writes
 * them.
 */

/**
 * @typedef {object} SyntheticRowsOptions
 * @property {Date} from  first row time
 * @property {Date} to    last row time
 * @property {number} apiRows
 * @property {number} authRows
 * @property {number} callRows
 * @property {number} [seed]  for setseed(), between -1 and 1 (default 0.42): same rows every run
 */

/**
 * The statements that insert the rows, in order (run them on one connection: the seed is
 * per session).
 * @param {SyntheticRowsOptions} options
 * @returns {string[]}
 */
export function syntheticRowsSql({ from, to, apiRows, authRows, callRows, seed = 0.42 }) {
  const span = `(timestamptz '${from.toISOString()}' + (timestamptz '${to.toISOString()}' - timestamptz '${from.toISOString()}')`;
  // Row g of n lands at g/n of the range, nudged by up to a minute so rows do not tick.
  /** @param {number} n */
  const timeOf = (n) =>
    `least(${span} * (g::float8 / ${n})) + random() * interval '1 minute', timestamptz '${to.toISOString()}')`;
  const burstStart = new Date(to.getTime() - 3 * 3600_000).toISOString();
  const burstRows = Math.max(12, Math.round(authRows * 0.02));
  return [
    `select setseed(${seed})`,
    `insert into api_access_log
       (time, trace_id, span_id, service_name, user_id, endpoint, path, method, status_code,
        response_time_ms, ip_address, peer_address, user_agent, request_size, response_size,
        query_params, error_message, sample_weight, metadata)
     select t, md5(g::text), 'api' || g, svc, usr, r.endpoint, replace(r.endpoint, ':id', (g % 5000)::text),
            r.method, st, ms, ip, ip, ua, case when r.method = 'POST' then 200 + (g % 2000) end,
            case when st < 400 then 500 + (g % 20000) else 120 end, null,
            case when st >= 500 then 'upstream failed: ' || st end, w,
            case when ms > 1000 then '{"slow": true}'::jsonb end
     from (
       select g, ${timeOf(apiRows)} as t,
              case when random() < 0.8 then 'shop-api' else 'billing-api' end as svc,
              case when random() < 0.85 then 'user-' || floor(random() * random() * 1000)::int end as usr,
              1 + floor(random() * random() * 12)::int as ri,
              random() as sr, random() as lr,
              ('10.' || (g % 7) || '.' || (g % 211) || '.' || (g % 13 + 1))::inet as ip,
              case when random() < 0.9 then 'Mozilla/5.0 (X11; Linux x86_64)' else 'curl/8.5.0' end as ua,
              case when random() < 0.3 then 4 else 1 end as w
       from generate_series(1, ${apiRows}) as g
     ) s
     join (values (1, 'GET', '/api/items/:id', 40), (2, 'GET', '/api/search', 120), (3, 'GET', '/api/items', 60),
                  (4, 'POST', '/api/items', 90), (5, 'GET', '/api/profile', 30), (6, 'GET', '/health', 2),
                  (7, 'POST', '/auth/login', 150), (8, 'GET', '/api/ai/summary', 900), (9, 'GET', '/api/ai/chat', 1400),
                  (10, 'GET', '/api/scrape', 2200), (11, 'POST', '/api/checkout', 300), (12, 'DELETE', '/api/items/:id', 50))
       as r(i, method, endpoint, base_ms) on r.i = s.ri
     cross join lateral (select
       case when sr < 0.86 then (case when r.method = 'POST' then 201 else 200 end)
            when sr < 0.9 then 304 when sr < 0.93 then 400 when sr < 0.95 then 401 when sr < 0.97 then 404
            when sr < 0.98 then 429 when sr < 0.995 then 500 else 502 end as st,
       round((r.base_ms * exp(lr * lr * 3.5) * (0.5 + random()))::numeric, 2)::float8 as ms) x`,
    `insert into authentication_log
       (time, trace_id, span_id, service_name, user_id, event_type, ip_address, user_agent, success, error_message, metadata)
     select t, md5('auth' || g), 'auth' || g, 'shop-api', usr, ev, ip, 'Mozilla/5.0 (X11; Linux x86_64)',
            ev <> 'login_failed', case when ev = 'login_failed' then 'invalid credentials' end, null
     from (
       select g, ${timeOf(authRows)} as t,
              'user-' || floor(random() * random() * 1000)::int as usr,
              ('10.' || (g % 7) || '.' || (g % 211) || '.' || (g % 13 + 1))::inet as ip,
              (array['login', 'login', 'login', 'login', 'login', 'login', 'login_failed', 'login_failed',
                     'signup', 'logout', 'logout', 'password_reset'])[1 + floor(random() * 12)::int] as ev
       from generate_series(1, ${authRows}) as g
     ) s`,
    // Someone trying passwords for many accounts from one address, three hours before the end.
    `insert into authentication_log
       (time, trace_id, span_id, service_name, user_id, event_type, ip_address, user_agent, success, error_message)
     select timestamptz '${burstStart}' + g * interval '7 seconds', md5('burst' || g), 'burst' || g, 'shop-api',
            'user-' || (g % 40), 'login_failed', '203.0.113.7', 'python-requests/2.32', false, 'invalid credentials'
     from generate_series(1, ${burstRows}) as g`,
    `insert into external_api_call_log
       (time, trace_id, span_id, service_name, user_id, service, endpoint, method, status_code, response_time_ms,
        cost_estimate, request_size, response_size, error_message, metadata)
     select t, md5('call' || g), 'call' || g, 'shop-api', usr, c.service, c.endpoint, 'POST', st,
            round((c.base_ms * (0.4 + random() * random() * 4))::numeric, 2)::float8,
            case when c.model is null then (case when st < 400 then c.per_call else 0 end)
                 when st >= 400 then 0
                 else round((inp * c.in_price + outp * c.out_price) / 1e6, 8) end,
            800 + (g % 4000), case when st < 400 then 2000 + (g % 30000) else 90 end,
            case when st >= 400 then 'HTTP ' || st end,
            case when c.model is null then '{}'::jsonb
                 when st >= 400 then jsonb_build_object('request_model', c.model)
                 else jsonb_build_object('request_model', c.model, 'response_model', c.model,
                        'input_tokens', inp, 'output_tokens', outp, 'cached_input_tokens', floor(inp * 0.2)::int,
                        'price_source', 'synthetic') end
     from (
       select g, ${timeOf(callRows)} as t,
              case when random() < 0.9 then 'user-' || floor(random() * random() * 1000)::int end as usr,
              1 + floor(random() * 6)::int as ci,
              case when random() < 0.95 then 200 when random() < 0.5 then 429 else 503 end as st,
              200 + floor(random() * 4000)::int as inp, 50 + floor(random() * 900)::int as outp
       from generate_series(1, ${callRows}) as g
     ) s
     join (values (1, 'gemini', '/v1beta/models/gemini-2.5-flash:generateContent', 'gemini-2.5-flash', 0.30, 2.50, 0::numeric, 700),
                  (2, 'openai', '/v1/chat/completions', 'gpt-5-mini', 0.25, 2.00, 0, 900),
                  (3, 'anthropic', '/v1/messages', 'claude-sonnet-4-5', 3.00, 15.00, 0, 1200),
                  (4, 'brightdata', '/request', null, 0, 0, 0.0015, 2500),
                  (5, 'supabase', '/rest/v1/items', null, 0, 0, 0, 40),
                  (6, 'gemini', '/v1beta/models/gemini-2.5-pro:generateContent', 'gemini-2.5-pro', 1.25, 10.00, 0, 2000))
       as c(i, service, endpoint, model, in_price, out_price, per_call, base_ms) on c.i = s.ci`,
    'analyze api_access_log, authentication_log, external_api_call_log',
  ];
}

import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../admin/migrate.js';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';
import { LOG_TABLES, logRowCounts } from '../helpers/citus-rows.js';
import {
  authEventSpan,
  djangoServerSpan,
  hexId,
  otlpRequest,
  PYTHON_RESOURCE,
  pythonRequestsClientSpan,
} from '../helpers/otlp-payloads.js';

// The CLI as users run it (built: `npm run build`).
const CLI = 'dist/cli/otel-pg-analytics.js';
// Distributing the log tables and their daily partitions makes about a thousand shards.
const MIGRATE_TIMEOUT_MILLIS = 120_000;

/** One Python service's export: `requests` traces of a request, its outbound call and an auth event each. */
function pythonExport(traceIds: string[]) {
  const spans = traceIds.map((traceId) => {
    const server = djangoServerSpan({ traceId, spanId: hexId(8) });
    return {
      server,
      client: pythonRequestsClientSpan({ traceId, parentSpanId: server.spanId! }),
      auth: authEventSpan({ traceId, parentSpanId: server.spanId! }),
    };
  });
  return otlpRequest(PYTHON_RESOURCE, [
    { scope: { name: 'opentelemetry.instrumentation.django' }, spans: spans.map((s) => s.server) },
    { scope: { name: 'opentelemetry.instrumentation.requests' }, spans: spans.map((s) => s.client) },
    { scope: { name: 'shop.auth' }, spans: spans.map((s) => s.auth) },
  ]);
}

describeCitus('otel-pg-analytics ingest into the distributed layout (Citus)', () => {
  let citus: CitusSchema;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    citus = await createCitusSchema('ingest');
    expect((await migrate(citus.url)).layout).toBe('distributed');
  }, MIGRATE_TIMEOUT_MILLIS);

  afterAll(async () => {
    await app?.stop('SIGTERM');
    await citus?.drop();
  });

  it('writes an OTLP/JSON export through the coordinator once, a trace together on one worker, and a resent export adds nothing', async () => {
    app = await startApp(CLI, {
      register: false,
      args: ['ingest', '--port', '0'],
      env: { OTEL_ANALYTICS_DATABASE_URL: citus.url },
    });
    const traceIds = Array.from({ length: 20 }, () => hexId(16));
    const body = JSON.stringify(pythonExport(traceIds));
    const post = () =>
      fetch(app!.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({});
    // A collector that lost the answer sends the same export again.
    expect((await post()).status).toBe(200);
    const exit = await app.stop('SIGTERM');
    app = undefined;
    expect(exit.code).toBe(0);
    expect(await logRowCounts(citus)).toEqual({
      api_access_log: 20,
      authentication_log: 20,
      external_api_call_log: 20,
    });

    const traces = await citus.query<{ log: string; trace_id: string; spans: number }>(`
      select log, trace_id, count(*)::int as spans
      from (
        select 'api_access_log' as log, trace_id from api_access_log
        union all select 'authentication_log', trace_id from authentication_log
        union all select 'external_api_call_log', trace_id from external_api_call_log
      ) l
      group by 1, 2`);
    // The shards, looked up on the coordinator (pushed down to the workers, the function would
    // not find the tables there by the test's search_path).
    const rows = await citus.query<{ log: string; trace_id: string; spans: number; shard: string }>(
      `select r.*, get_shard_id_for_distribution_column(r.log::regclass, r.trace_id)::text as shard
       from jsonb_to_recordset($1::jsonb) r(log text, trace_id text, spans int)`,
      [JSON.stringify(traces)],
    );
    expect(rows).toHaveLength(60);
    expect(rows.every((row) => row.spans === 1)).toBe(true);
    expect(new Set(rows.map((row) => row.trace_id))).toEqual(new Set(traceIds));
    // Co-located: a trace's request, call and auth event are on shards of one worker.
    const nodes = await citus.query<{ trace_id: string; nodes: number }>(
      `select r.trace_id, count(distinct p.groupid)::int as nodes
       from jsonb_to_recordset($1::jsonb) r(trace_id text, shard bigint) join pg_dist_placement p on p.shardid = r.shard
       group by 1`,
      [JSON.stringify(rows)],
    );
    expect(nodes).toHaveLength(20);
    expect(nodes.every((row) => row.nodes === 1)).toBe(true);
    const [spread] = await citus.query<{ workers: number }>(
      `select count(distinct p.groupid)::int as workers
       from jsonb_to_recordset($1::jsonb) r(shard bigint) join pg_dist_placement p on p.shardid = r.shard`,
      [JSON.stringify(rows)],
    );
    expect(spread!.workers).toBe(2);
    for (const table of LOG_TABLES) {
      const [row] = await citus.query<{ service: string }>(
        `select string_agg(distinct service_name, ',') as service from ${table}`,
      );
      expect(row!.service, table).toBe('shop-django');
    }
  });
});

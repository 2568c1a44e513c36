import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, packageRoot, SCHEMA_VERSION } from '../../admin/migrate.js';
import { apiSpan, authSpan, externalSpan } from '../../dev/spans.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import type { ReadableSpanLike } from '../../src/span-types.js';
import { createCitusSchema, describeCitus, type CitusSchema } from '../helpers/citus.js';
import { LOG_TABLES, rowsPerWorker } from '../helpers/citus-rows.js';

const ROLLUP_TABLES = ['analytics_api_hourly', 'analytics_auth_hourly', 'analytics_external_hourly'];
const ZEROS = '0'.repeat(32);
const DAY_MS = 86_400_000;
const HAS_ROLLUPS = existsSync(path.join(packageRoot(), 'migrations/citus/rollups.sql'));
// Distributing the three tables and their ten daily partitions each makes about a thousand shards,
// and Citus files running at once wait for each other's DDL.
const MIGRATE_TIMEOUT_MILLIS = 120_000;

/** The UTC day `offset` days from today, as partition names spell it. */
function day(offset: number): string {
  return new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

/** An HrTime `offset` days from now. */
function at(offset: number): [number, number] {
  return [Math.floor((Date.now() + offset * DAY_MS) / 1000), 0];
}

function exportAll(exporter: PostgresSpanExporter, spans: ReadableSpanLike[]): Promise<void> {
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

/** Each table of `tables` in pg_dist_partition: how it is distributed, and with which group. */
async function distribution(citus: CitusSchema, tables: readonly string[]) {
  return citus.query<{ table: string; method: string; column: string; colocation: number }>(
    `select t.name as table, p.partmethod as method, column_to_column_name(p.logicalrelid, p.partkey) as column,
            p.colocationid as colocation
     from unnest($1::text[]) t(name) join pg_dist_partition p on p.logicalrelid = to_regclass(t.name)
     order by 1`,
    [tables],
  );
}

/** The keys and rollup triggers of the log tables (and of one partition of each). */
async function keysAndTriggers(citus: CitusSchema) {
  const keys = await citus.query<{ table: string; definition: string }>(
    `select conrelid::regclass::text as table, pg_get_constraintdef(oid) as definition from pg_constraint
     where contype in ('p', 'u') and conrelid in (select to_regclass(t) from unnest($1::text[]) t)
     order by 1, 2`,
    [LOG_TABLES.flatMap((t) => [t, `${t}_default`])],
  );
  const triggers = await citus.query<{ name: string }>(
    `select tgname as name from pg_trigger where not tgisinternal
     and tgrelid in (select to_regclass(t) from unnest($1::text[]) t) order by 1`,
    [LOG_TABLES],
  );
  return { keys, triggers: triggers.map((t) => t.name) };
}

describeCitus('migrate on a Citus coordinator', () => {
  describe('a new schema', () => {
    let citus: CitusSchema;
    beforeAll(async () => {
      citus = await createCitusSchema('migrate');
    });
    afterAll(() => citus?.drop());

    it(
      'distributes the three log tables by trace_id, co-located, and keeps everything else local',
      async () => {
        const result = await migrate(citus.url);
        expect(result).toMatchObject({ from: 0, to: SCHEMA_VERSION, layout: 'distributed' });
        expect(result.applied.slice(0, 2)).toEqual(['schema.sql', 'citus/layout.sql']);
        const tables = await distribution(citus, LOG_TABLES);
        expect(tables.map(({ table, method, column }) => ({ table, method, column }))).toEqual(
          LOG_TABLES.map((table) => ({ table, method: 'h', column: 'trace_id' })),
        );
        expect(new Set(tables.map((t) => t.colocation)).size).toBe(1);
        const local = [...ROLLUP_TABLES, 'analytics_schema_version', 'analytics_pipeline_stats'];
        expect(await distribution(citus, local)).toEqual([]);
        // Every daily partition and the DEFAULT one are distributed with their parent.
        const [partitions] = await citus.query<{ n: number; groups: number }>(
          `select count(*)::int as n, count(distinct colocationid)::int as groups from pg_dist_partition
           where logicalrelid in (select inhrelid from pg_inherits where inhparent = 'api_access_log'::regclass)`,
        );
        expect(partitions).toEqual({ n: 10, groups: 1 });
      },
      MIGRATE_TIMEOUT_MILLIS,
    );

    it('replaces the keys by ones with trace_id, NOT NULL, drops the rollup triggers and indexes id', async () => {
      const { keys, triggers } = await keysAndTriggers(citus);
      for (const table of LOG_TABLES) {
        for (const of of [table, `${table}_default`]) {
          expect(keys.filter((k) => k.table === of).map((k) => k.definition)).toEqual([
            'PRIMARY KEY ("time", id, trace_id)',
            'UNIQUE (span_id, "time", trace_id)',
          ]);
        }
      }
      expect(triggers).toEqual([]);
      const columns = await citus.query<{ nullable: string }>(
        `select is_nullable as nullable from information_schema.columns
         where table_schema = current_schema() and column_name = 'trace_id' and table_name = any($1)`,
        [LOG_TABLES],
      );
      expect(columns).toEqual(LOG_TABLES.map(() => ({ nullable: 'NO' })));
      const brin = await citus.query<{ name: string }>(
        `select indexname as name from pg_indexes where schemaname = current_schema() and indexdef like '%USING brin (id)'
         and tablename = any($1) order by 1`,
        [LOG_TABLES],
      );
      expect(brin.map((b) => b.name)).toEqual(LOG_TABLES.map((t) => `${t}_id_brin_idx`));
    });

    it('answers analytics_failed_login_bursts over the distributed authentication_log', async () => {
      await citus.query(
        `insert into authentication_log (time, trace_id, span_id, event_type, ip_address, user_id, success)
         select now() - interval '1 minute', md5(g::text), 'burst-' || g, 'login_failed', '203.0.113.9', 'user-' || (g % 3), false
         from generate_series(1, 6) g`,
      );
      const bursts = await citus.query<{ ip: string; failures: string; accounts: string }>(
        `select host(ip_address) as ip, failures::text, accounts::text
         from analytics_failed_login_bursts(now() - interval '1 hour', now() + interval '1 minute', interval '1 hour', 5)`,
      );
      expect(bursts).toEqual([{ ip: '203.0.113.9', failures: '6', accounts: '3' }]);
      await citus.query(`delete from authentication_log where span_id like 'burst-%'`);
    });

    it(
      'is harmless when run again',
      async () => {
        const before = [await keysAndTriggers(citus), await distribution(citus, LOG_TABLES)];
        expect(await migrate(citus.url)).toEqual({
          from: SCHEMA_VERSION,
          to: SCHEMA_VERSION,
          applied: [],
          layout: 'distributed',
        });
        expect([await keysAndTriggers(citus), await distribution(citus, LOG_TABLES)]).toEqual(before);
      },
      MIGRATE_TIMEOUT_MILLIS,
    );

    it('refuses the single layout once the tables are distributed', async () => {
      await expect(migrate(citus.url, { layout: 'single' })).rejects.toThrow(/already distributed/);
    });

    // Each partition made on a distributed table takes Citus about a second: one day (three) here.
    it(
      'distributes a partition made later and moves the rows of its day out of the DEFAULT partition',
      async () => {
        await citus.query(
          `insert into api_access_log (time, trace_id, span_id) values (now() + interval '8 days', $1, 'future')`,
          ['4bf92f3577b34da6a3ce929d0e0e4736'],
        );
        const [before] = await citus.query<{ n: number }>(
          'select count(*)::int as n from api_access_log_default',
        );
        expect(before!.n).toBe(1);
        const made = await citus.query<{ name: string }>('select analytics_ensure_partitions(1, 8) as name');
        expect(made.map((m) => m.name)).toContain(`api_access_log_p${day(8)}`);
        const [after] = await citus.query<{ in_default: number; in_day: number; local_bytes: number }>(
          `select (select count(*)::int from api_access_log_default) as in_default,
                (select count(*)::int from api_access_log_p${day(8)} where span_id = 'future') as in_day,
                pg_relation_size('api_access_log_p${day(8)}')::int as local_bytes`,
        );
        // The coordinator's own table of the new partition holds nothing: the row is on a shard.
        expect(after).toEqual({ in_default: 0, in_day: 1, local_bytes: 0 });
        const [parent] = await distribution(citus, ['api_access_log']);
        expect(
          await distribution(citus, [`api_access_log_p${day(8)}`, `external_api_call_log_p${day(8)}`]),
        ).toEqual([
          {
            table: `api_access_log_p${day(8)}`,
            method: 'h',
            column: 'trace_id',
            colocation: parent!.colocation,
          },
          {
            table: `external_api_call_log_p${day(8)}`,
            method: 'h',
            column: 'trace_id',
            colocation: parent!.colocation,
          },
        ]);
      },
      MIGRATE_TIMEOUT_MILLIS,
    );
  });

  describe('an existing single-node schema', () => {
    let citus: CitusSchema;
    const spans = [
      ...Array.from({ length: 120 }, () => apiSpan({}, { startTime: at(0) })),
      ...Array.from({ length: 20 }, () => authSpan({}, { startTime: at(0) })),
      ...Array.from({ length: 20 }, () => externalSpan({}, { startTime: at(0) })),
    ];
    beforeAll(async () => {
      citus = await createCitusSchema('upgrade');
    });
    afterAll(() => citus?.drop());

    async function counts(): Promise<Record<string, number>> {
      const [row] = await citus.query<Record<string, number>>(
        `select ${LOG_TABLES.map((t) => `(select count(*)::int from ${t}) as ${t}`).join(', ')}`,
      );
      return row!;
    }

    async function rollupTotals() {
      const [row] = await citus.query<{ requests: number; events: number; calls: number }>(
        `select (select coalesce(sum(requests), 0)::int from analytics_api_hourly) as requests,
                (select coalesce(sum(events), 0)::int from analytics_auth_hourly) as events,
                (select coalesce(sum(calls), 0)::int from analytics_external_hourly) as calls`,
      );
      return row!;
    }

    it(
      "keeps local tables and the rollup triggers with layout 'single', on a coordinator too",
      async () => {
        const result = await migrate(citus.url, { layout: 'single' });
        expect(result).toMatchObject({
          from: 0,
          to: SCHEMA_VERSION,
          applied: ['schema.sql'],
          layout: 'single',
        });
        expect(await distribution(citus, LOG_TABLES)).toEqual([]);
        const { keys, triggers } = await keysAndTriggers(citus);
        expect(triggers).toHaveLength(12);
        expect(keys.filter((k) => k.table === 'api_access_log').map((k) => k.definition)).toEqual([
          'PRIMARY KEY ("time", id)',
          'UNIQUE (span_id, "time")',
        ]);
        const exporter = new PostgresSpanExporter({ connectionString: citus.url, statsIntervalMillis: 0 });
        await exportAll(exporter, spans);
        await exporter.shutdown();
        expect(exporter.getStats()).toEqual(
          expect.objectContaining({ exportedRows: spans.length, droppedRows: {}, rejectedRows: {} }),
        );
        // A row of an older version without a trace id, and one of a day with no partition yet.
        await citus.query(
          `insert into api_access_log (time, span_id, status_code) values (now(), 'no-trace', 200)`,
        );
        await citus.query(
          `insert into api_access_log (time, trace_id, span_id) values (now() + interval '30 days', $1, 'far')`,
          ['5bf92f3577b34da6a3ce929d0e0e4736'],
        );
        expect(await rollupTotals()).toEqual({ requests: 122, events: 20, calls: 20 });
      },
      MIGRATE_TIMEOUT_MILLIS,
    );

    it(
      'is distributed by the next migrate, its rows kept, spread over both workers',
      async () => {
        const before = await counts();
        const [lastIds] = await citus.query<Record<string, string>>(
          `select ${LOG_TABLES.map((t) => `(select max(id)::text from ${t}) as ${t}`).join(', ')}`,
        );
        const result = await migrate(citus.url);
        expect(result).toMatchObject({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, layout: 'distributed' });
        expect(result.applied[0]).toBe('citus/layout.sql');
        expect((await distribution(citus, LOG_TABLES)).map((t) => t.table)).toEqual(LOG_TABLES);
        expect(await counts()).toEqual(before);
        const [noTrace] = await citus.query<{ trace_id: string }>(
          `select trace_id from api_access_log where span_id = 'no-trace'`,
        );
        expect(noTrace!.trace_id).toBe(ZEROS);
        const perWorker = await rowsPerWorker(citus, 'api_access_log');
        expect(Object.keys(perWorker)).toHaveLength(2);
        expect(Object.values(perWorker).every((n) => n > 0)).toBe(true);
        expect(Object.values(perWorker).reduce((a, b) => a + b)).toBe(before.api_access_log);
        // The coordinator keeps no copy of the rows it moved into the shards.
        const [local] = await citus.query<{ bytes: number }>(
          `select sum(pg_relation_size(inhrelid))::int as bytes from pg_inherits
           where inhparent in (select to_regclass(t) from unnest($1::text[]) t)`,
          [LOG_TABLES],
        );
        expect(local!.bytes).toBe(0);
        // The triggers had rolled every row up: the rollups are as they were.
        expect(await rollupTotals()).toEqual({ requests: 122, events: 20, calls: 20 });
        if (HAS_ROLLUPS) {
          const progress = await citus.query<{ log_table: string; rolled_up_to: string }>(
            'select log_table, rolled_up_to::text from analytics_rollup_progress order by 1',
          );
          expect(Object.fromEntries(progress.map((p) => [p.log_table, p.rolled_up_to]))).toEqual(lastIds);
        }
      },
      MIGRATE_TIMEOUT_MILLIS,
    );

    it(
      'takes rows written after through COPY exactly once, however often they are written',
      async () => {
        const more = [
          ...Array.from({ length: 50 }, () => apiSpan({}, { startTime: at(0) })),
          ...Array.from({ length: 10 }, () => authSpan({}, { startTime: at(0) })),
          ...Array.from({ length: 10 }, () => externalSpan({}, { startTime: at(0) })),
        ];
        const newer = Array.from({ length: 10 }, () => apiSpan({}, { startTime: at(0) }));
        const before = await counts();
        const exporter = new PostgresSpanExporter({ connectionString: citus.url, statsIntervalMillis: 0 });
        await exportAll(exporter, more);
        await exporter.forceFlush();
        // A replay: the COPY fails on the keys, and INSERT ... ON CONFLICT DO NOTHING skips them.
        await exportAll(exporter, more);
        await exporter.forceFlush();
        // Rows written already and new ones in one batch: the new ones are written, the others skipped.
        await exportAll(exporter, [...spans.slice(0, 10), ...more.slice(0, 10), ...newer]);
        await exporter.shutdown();
        const { droppedRows, rejectedRows, exportedRows } = exporter.getStats();
        expect({ droppedRows, rejectedRows, exportedRows }).toEqual({
          droppedRows: {},
          rejectedRows: {},
          exportedRows: 2 * more.length + 30,
        });
        expect(await counts()).toEqual({
          api_access_log: before.api_access_log! + 60,
          authentication_log: before.authentication_log! + 10,
          external_api_call_log: before.external_api_call_log! + 10,
        });
        const [dupes] = await citus.query<{ n: number }>(
          'select count(*)::int as n from (select span_id from api_access_log group by 1 having count(*) > 1) d',
        );
        expect(dupes!.n).toBe(0);
        if (HAS_ROLLUPS) {
          await citus.query('select * from analytics_roll_up()');
          expect(await rollupTotals()).toEqual({ requests: 182, events: 30, calls: 30 });
        }
      },
      MIGRATE_TIMEOUT_MILLIS,
    );
  });
});

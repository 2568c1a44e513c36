import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { maskUrlPassword } from '../src/internal/redactor.js';
import { classifyConnectionError } from '../database/classify-connection-error.js';
import { CONNECTED_ROLE_SQL, connectedRoleWarning, parseConnectedRole } from '../database/connected-role.js';
import { PIPELINE_STATS_COLUMNS, TABLE_COLUMNS, type ColumnSpec } from '../database/analytics-database.js';
import type { DoctorCheck, DoctorCheckName } from './doctor-check.js';
import { formatBytes } from './format-bytes.js';
import { inspectSpool } from '../exporter/spool/inspect-spool.js';
import { SCHEMA_VERSION } from '../admin/migrate.js';
import { DEFAULT_READER_ROLE, DEFAULT_WRITER_ROLE } from '../admin/migrate-roles.js';
import { pipelineHealth, type InstanceSnapshot } from './pipeline-health.js';

/** Options of {@link doctor}. */
export interface DoctorOptions {
  /** A spool directory to look for pending segments in; without it, no spool check. */
  spoolDir?: string;
  /** How long to wait for the database to accept the connection. Defaults to 5000. */
  connectionTimeoutMillis?: number;
  /** Limit of each check query. Defaults to 10000. */
  statementTimeoutMillis?: number;
  /** Growth of dropped and refused rows is judged over this window. Defaults to 15 minutes. */
  pipelineWindowMillis?: number;
  /** A process silent for longer than this has stopped reporting. Defaults to 5 minutes. */
  staleAfterMillis?: number;
  /** Processes that reported within this long are judged. Defaults to 1 hour. */
  lookbackMillis?: number;
}

const DEFAULT_CONNECTION_TIMEOUT_MILLIS = 5000;
const DEFAULT_STATEMENT_TIMEOUT_MILLIS = 10_000;
const DEFAULT_PIPELINE_WINDOW_MILLIS = 15 * 60_000;
const DEFAULT_STALE_AFTER_MILLIS = 5 * 60_000;
const DEFAULT_LOOKBACK_MILLIS = 60 * 60_000;

const MIGRATE = 'run `otel-pg-analytics migrate` with the owner role';

/** The tables the exporter writes, with the columns it expects after `id`. */
const EXPECTED_TABLES: readonly { name: string; columns: readonly ColumnSpec[] }[] = [
  ...Object.entries(TABLE_COLUMNS).map(([name, columns]) => ({ name, columns })),
  { name: 'analytics_pipeline_stats', columns: PIPELINE_STATS_COLUMNS },
];

/** How PostgreSQL names each column type (`regtype` output, without modifiers). */
const TYPE_NAMES: Readonly<Record<ColumnSpec['type'], string>> = {
  timestamptz: 'timestamp with time zone',
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  'double precision': 'double precision',
  numeric: 'numeric',
  inet: 'inet',
  boolean: 'boolean',
};

/** Who the checks run as, quoted for a GRANT. */
interface Session {
  role: string;
  quotedRole: string;
}

/**
 * Checks what the exporter needs and says what to fix: the connection (server version, round
 * trip; or why it failed), the schema version, the tables and their columns, INSERT privilege
 * of the connecting role on each table, whether that role is more than the exporter needs (a
 * superuser, the tables' owner, or one that may change rows), recent health of every exporter process from
 * `analytics_pipeline_stats`, and segments waiting in a spool directory. Never throws for
 * what it finds; a check that cannot run is reported as such. Messages never contain the
 * connection string's password.
 *
 * Run it with the role the app uses to check its privileges; that role usually may not read
 * `analytics_pipeline_stats`, so the pipeline check then asks for the reader role (a warning,
 * not a failure).
 *
 * ```ts
 * const report = await doctor(process.env.OTEL_ANALYTICS_DATABASE_URL!);
 * const healthy = report.every((check) => check.status !== 'fail');
 * ```
 */
export async function doctor(connectionString: string, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const statementTimeout = options.statementTimeoutMillis ?? DEFAULT_STATEMENT_TIMEOUT_MILLIS;
  let client: pg.Client | undefined;
  try {
    client = new pg.Client({
      connectionString,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? DEFAULT_CONNECTION_TIMEOUT_MILLIS,
      statement_timeout: statementTimeout,
      // The client-side limit catches a server that stops answering altogether.
      query_timeout: statementTimeout + 5000,
      application_name: 'otel-pg-analytics doctor',
    });
  } catch (error) {
    checks.push({
      check: 'connection',
      status: 'fail',
      message: `${maskUrlPassword(connectionString)}: not a connection string pg can read (${error instanceof Error ? error.message : String(error)})`,
      fix: 'write it as postgres://user:password@host:port/database',
    });
  }
  // A connection lost mid-check fails the query that was running; without a listener the
  // same loss would also be an unhandled 'error' event.
  client?.on('error', () => {});

  const session = client && (await connect(client, connectionString, options, checks));
  if (client !== undefined && session !== undefined) {
    try {
      const version = await guarded(checks, 'schema-version', () => schemaVersionCheck(client, session));
      const tables = await guarded(checks, 'tables', () => tablesCheck(client, version));
      if (tables !== undefined && tables.present.length > 0) {
        await guarded(checks, 'privileges', () => privilegesCheck(client, session, tables.present));
      }
      await guarded(checks, 'role', () => roleCheck(client, session));
      if (tables?.intact.includes('analytics_pipeline_stats')) {
        await guarded(checks, 'pipeline', () => pipelineCheck(client, session, options));
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (options.spoolDir !== undefined) checks.push(await spoolCheck(options.spoolDir));
  return checks;
}

/** Runs one check, adding what it found; a check that throws is reported as failed. */
async function guarded<T>(
  checks: DoctorCheck[],
  name: DoctorCheckName,
  run: () => Promise<{ checks: DoctorCheck[]; value?: T }>,
): Promise<T | undefined> {
  try {
    const result = await run();
    checks.push(...result.checks);
    return result.value;
  } catch (error) {
    checks.push({
      check: name,
      status: 'fail',
      message: `the check could not run: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'run doctor again; if it persists, check the server log',
    });
    return undefined;
  }
}

async function connect(
  client: pg.Client,
  connectionString: string,
  options: DoctorOptions,
  checks: DoctorCheck[],
): Promise<Session | undefined> {
  const where = maskUrlPassword(connectionString);
  const started = performance.now();
  try {
    await client.connect();
  } catch (error) {
    const failure = classifyConnectionError(
      error,
      { host: client.host, port: client.port, database: client.database ?? '', user: client.user ?? '' },
      options.connectionTimeoutMillis ?? DEFAULT_CONNECTION_TIMEOUT_MILLIS,
    );
    checks.push({
      check: 'connection',
      status: 'fail',
      message: `${where}: ${failure.message}`,
      fix: failure.fix,
    });
    return undefined;
  }
  const connectMillis = performance.now() - started;
  try {
    const before = performance.now();
    await client.query('select 1');
    const roundTripMillis = performance.now() - before;
    const { rows } = await client.query<{ version: string; role: string; quoted_role: string }>(
      `select current_setting('server_version') as version, current_user as role,
              quote_ident(current_user) as quoted_role`,
    );
    const info = rows[0]!;
    checks.push({
      check: 'connection',
      status: 'ok',
      message: `${where} as ${info.role}: PostgreSQL ${info.version}, connected in ${connectMillis.toFixed(0)} ms, round trip ${roundTripMillis.toFixed(1)} ms`,
    });
    return { role: info.role, quotedRole: info.quoted_role };
  } catch (error) {
    checks.push({
      check: 'connection',
      status: 'fail',
      message: `${where}: connected, but the first query failed: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'check the server log',
    });
    await client.end().catch(() => undefined);
    return undefined;
  }
}

async function schemaVersionCheck(
  client: pg.Client,
  session: Session,
): Promise<{ checks: DoctorCheck[]; value?: number }> {
  const { rows } = await client.query<{ present: boolean; readable: boolean | null }>(
    `select to_regclass('analytics_schema_version') is not null as present,
            has_table_privilege(to_regclass('analytics_schema_version'), 'SELECT') as readable`,
  );
  const { present, readable } = rows[0]!;
  if (!present) {
    return {
      checks: [
        {
          check: 'schema-version',
          status: 'fail',
          message: 'no schema: analytics_schema_version does not exist',
          fix: MIGRATE,
        },
      ],
      value: 0,
    };
  }
  if (!readable) {
    return {
      checks: [
        {
          check: 'schema-version',
          status: 'warn',
          message: `role ${session.role} may not read analytics_schema_version, so the version is unknown (the table check below still compares the columns)`,
          fix: `run doctor as the reader role (${DEFAULT_READER_ROLE}) or the owner, or GRANT SELECT ON analytics_schema_version TO ${session.quotedRole}`,
        },
      ],
    };
  }
  const versions = await client.query<{ version: number; applied_at: Date }>(
    'select version, applied_at from analytics_schema_version order by version desc limit 1',
  );
  const latest = versions.rows[0];
  const version = latest?.version ?? 0;
  let check: DoctorCheck;
  if (version < SCHEMA_VERSION) {
    check = {
      check: 'schema-version',
      status: 'fail',
      message:
        latest === undefined
          ? 'no schema version recorded (analytics_schema_version is empty)'
          : `schema version ${version}; this package needs ${SCHEMA_VERSION}`,
      fix: MIGRATE,
    };
  } else if (version > SCHEMA_VERSION) {
    check = {
      check: 'schema-version',
      status: 'warn',
      message: `schema version ${version} is newer than this package knows (${SCHEMA_VERSION})`,
      fix: 'upgrade otel-pg-analytics (in the app too)',
    };
  } else {
    check = {
      check: 'schema-version',
      status: 'ok',
      message: `schema version ${version} (applied ${latest!.applied_at.toISOString()})`,
    };
  }
  return { checks: [check], value: version };
}

/** The expected tables that exist, and those of them with the expected columns. */
interface TablesFound {
  present: string[];
  intact: string[];
}

/** Compares the tables with what the exporter writes. */
async function tablesCheck(
  client: pg.Client,
  version: number | undefined,
): Promise<{ checks: DoctorCheck[]; value: TablesFound }> {
  const { rows } = await client.query<{
    table_name: string;
    present: boolean;
    column_name: string | null;
    type: string | null;
    required: boolean | null;
  }>(
    `select t.name as table_name, to_regclass(t.name) is not null as present,
            a.attname::text as column_name, a.atttypid::regtype::text as type,
            a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = '' as required
     from unnest($1::text[]) as t(name)
     left join pg_attribute a
       on a.attrelid = to_regclass(t.name) and a.attnum > 0 and not a.attisdropped`,
    [EXPECTED_TABLES.map((t) => t.name)],
  );
  const present: string[] = [];
  const intact: string[] = [];
  const missing: string[] = [];
  const problems: string[] = [];
  for (const table of EXPECTED_TABLES) {
    const live = rows.filter((row) => row.table_name === table.name);
    if (!live[0]?.present) {
      missing.push(table.name);
      continue;
    }
    present.push(table.name);
    const expected = [
      { name: 'id', type: 'bigint' },
      ...table.columns.map((c) => ({ name: c.name, type: typeName(c) })),
    ];
    const issues: string[] = [];
    for (const column of expected) {
      const found = live.find((row) => row.column_name === column.name);
      if (found === undefined) issues.push(`no column ${column.name}`);
      else if (found.type !== column.type)
        issues.push(`${column.name} is ${found.type}, expected ${column.type}`);
    }
    for (const row of live) {
      if (row.required && !expected.some((c) => c.name === row.column_name)) {
        issues.push(`extra column ${row.column_name} is NOT NULL without a default, so inserts fail`);
      }
    }
    if (issues.length > 0) problems.push(`${table.name}: ${issues.join(', ')}`);
    else intact.push(table.name);
  }
  if (missing.length > 0)
    problems.unshift(`missing ${missing.length === 1 ? 'table' : 'tables'} ${missing.join(', ')}`);
  if (problems.length === 0) {
    return {
      checks: [
        {
          check: 'tables',
          status: 'ok',
          message: `${present.join(', ')} have the expected columns`,
        },
      ],
      value: { present, intact },
    };
  }
  return {
    checks: [
      {
        check: 'tables',
        status: 'fail',
        message: problems.join('; '),
        fix:
          version === SCHEMA_VERSION
            ? 'the schema version is current, so the tables were changed by hand: compare them with `otel-pg-analytics schema` and restore them'
            : MIGRATE,
      },
    ],
    value: { present, intact },
  };
}

function typeName(column: ColumnSpec): string {
  return column.jsonb ? 'jsonb' : TYPE_NAMES[column.type];
}

async function privilegesCheck(
  client: pg.Client,
  session: Session,
  tables: readonly string[],
): Promise<{ checks: DoctorCheck[] }> {
  // No SELECT needed: the exporter writes ON CONFLICT DO NOTHING without a conflict target.
  const { rows } = await client.query<{ name: string; can_insert: boolean; can_select: boolean }>(
    `select t.name, has_table_privilege(to_regclass(t.name), 'INSERT') as can_insert,
            has_table_privilege(to_regclass(t.name), 'SELECT') as can_select
     from unnest($1::text[]) with ordinality as t(name, position) order by t.position`,
    [tables],
  );
  const denied = rows.filter((row) => !row.can_insert).map((row) => row.name);
  if (denied.length === rows.length && rows.every((row) => row.can_select)) {
    // The reader, which doctor is told to run as for pipeline health: it never writes, so
    // its missing INSERT says nothing about the app's role.
    return {
      checks: [
        {
          check: 'privileges',
          status: 'warn',
          message: `role ${session.role} may read but not write the tables (a reader role), so the exporter's privileges were not checked`,
          fix: "run doctor again with the app's connection string to check its INSERT privileges",
        },
      ],
    };
  }
  if (denied.length === 0) {
    return {
      checks: [
        {
          check: 'privileges',
          status: 'ok',
          message: `role ${session.role} may insert into ${tables.join(', ')}`,
        },
      ],
    };
  }
  return {
    checks: [
      {
        check: 'privileges',
        status: 'fail',
        message: `role ${session.role} may not insert into ${denied.join(', ')}, which the exporter writes`,
        fix: `as the owner: GRANT INSERT ON ${denied.join(', ')} TO ${session.quotedRole};`,
      },
    ],
  };
}

async function pipelineCheck(
  client: pg.Client,
  session: Session,
  options: DoctorOptions,
): Promise<{ checks: DoctorCheck[] }> {
  const readable = await client.query<{ readable: boolean; insertable: boolean }>(
    `select has_table_privilege(to_regclass('analytics_pipeline_stats'), 'SELECT') as readable,
            has_table_privilege(to_regclass('analytics_pipeline_stats'), 'INSERT') as insertable`,
  );
  if (!readable.rows[0]?.readable) {
    // The app's own role may only insert: not being able to read is right for it, not a failure.
    return {
      checks: [
        {
          check: 'pipeline',
          status: 'warn',
          message: `cannot read pipeline stats as ${session.role}${readable.rows[0]?.insertable ? ' (INSERT-only)' : ''}: run doctor with the reader role`,
          fix: `run doctor again as the reader role from \`otel-pg-analytics migrate --roles\` (${DEFAULT_READER_ROLE}, or a login role granted it) or the owner`,
        },
      ],
    };
  }
  const windowMillis = options.pipelineWindowMillis ?? DEFAULT_PIPELINE_WINDOW_MILLIS;
  const staleAfterMillis = options.staleAfterMillis ?? DEFAULT_STALE_AFTER_MILLIS;
  const lookbackMillis = options.lookbackMillis ?? DEFAULT_LOOKBACK_MILLIS;
  // Counters are cumulative per process, so growth over the window is the latest snapshot
  // minus the last one before the window; a process that started within the window grew
  // from nothing; one without a snapshot before the window (though it started earlier) is
  // measured from its first snapshot in the window.
  const { rows } = await client.query<{
    instance_id: string;
    service_name: string | null;
    final: boolean;
    age_millis: number;
    queued_rows: number;
    spool_bytes: number;
    exported_rows: number;
    retries: number;
    spooled_rows: number;
    replayed_rows: number;
    dropped_rows: unknown;
    rejected_rows: unknown;
    dropped_before: unknown;
    rejected_before: unknown;
    last_error: string | null;
  }>(
    `with latest as (
       select distinct on (instance_id) *
       from analytics_pipeline_stats
       where time >= now() - $1::float8 * interval '1 millisecond'
       order by instance_id, time desc, id desc
     )
     select l.instance_id, l.service_name, l.final,
            (extract(epoch from now() - l.time) * 1000)::float8 as age_millis,
            l.queued_rows::float8 as queued_rows, l.spool_bytes::float8 as spool_bytes,
            l.exported_rows::float8 as exported_rows, l.retries::float8 as retries,
            l.spooled_rows::float8 as spooled_rows, l.replayed_rows::float8 as replayed_rows,
            l.dropped_rows, l.rejected_rows, l.last_error,
            coalesce(b.dropped_rows, case when l.started_at >= w.since then '{}'::jsonb else e.dropped_rows end)
              as dropped_before,
            coalesce(b.rejected_rows, case when l.started_at >= w.since then '{}'::jsonb else e.rejected_rows end)
              as rejected_before
     from latest l
     cross join (select now() - $2::float8 * interval '1 millisecond' as since) w
     left join lateral (
       select s.dropped_rows, s.rejected_rows from analytics_pipeline_stats s
       where s.instance_id = l.instance_id and s.time <= w.since
       order by s.time desc, s.id desc limit 1
     ) b on true
     left join lateral (
       select s.dropped_rows, s.rejected_rows from analytics_pipeline_stats s
       where s.instance_id = l.instance_id and s.time > w.since
       order by s.time, s.id limit 1
     ) e on true
     order by l.instance_id`,
    [lookbackMillis, windowMillis],
  );
  const instances: InstanceSnapshot[] = rows.map((row) => ({
    instanceId: row.instance_id,
    serviceName: row.service_name,
    ageMillis: row.age_millis,
    final: row.final,
    queuedRows: row.queued_rows,
    spoolBytes: row.spool_bytes,
    exportedRows: row.exported_rows,
    retries: row.retries,
    spooledRows: row.spooled_rows,
    replayedRows: row.replayed_rows,
    droppedRows: counts(row.dropped_rows),
    rejectedRows: counts(row.rejected_rows),
    droppedRowsBefore: counts(row.dropped_before),
    rejectedRowsBefore: counts(row.rejected_before),
    lastError: row.last_error,
  }));
  let latestReport: Date | null = null;
  if (instances.length === 0) {
    const latest = await client.query<{ time: Date | null }>(
      'select max(time) as time from analytics_pipeline_stats',
    );
    latestReport = latest.rows[0]?.time ?? null;
  }
  return { checks: pipelineHealth(instances, { windowMillis, staleAfterMillis }, latestReport) };
}

/**
 * Whether the connecting role is more than the exporter needs: a superuser or the owner of
 * the log tables (warned, as the exporter itself does), or a role that may insert and also
 * update, delete or truncate rows. A least-privilege writer, or a reader, is fine.
 */
async function roleCheck(client: pg.Client, session: Session): Promise<{ checks: DoctorCheck[] }> {
  const found = await client.query(CONNECTED_ROLE_SQL);
  const connected = parseConnectedRole(found.rows[0]);
  const warning = connected && connectedRoleWarning(connected);
  const fix = `as the owner, run \`otel-pg-analytics migrate --roles\` and connect the app as ${DEFAULT_WRITER_ROLE} (or a login role granted it)`;
  if (warning !== undefined) {
    return { checks: [{ check: 'role', status: 'warn', message: warning, fix }] };
  }
  const { rows } = await client.query<{ name: string; extra: string[] }>(
    `select t.name, array(select p from unnest(array['UPDATE', 'DELETE', 'TRUNCATE']) as p
                          where has_table_privilege(to_regclass(t.name), p)) as extra
     from unnest($1::text[]) with ordinality as t(name, position)
     where to_regclass(t.name) is not null and has_table_privilege(to_regclass(t.name), 'INSERT')
     order by t.position`,
    [[...Object.keys(TABLE_COLUMNS), 'analytics_pipeline_stats']],
  );
  const excessive = rows.filter((row) => row.extra.length > 0);
  if (excessive.length > 0) {
    return {
      checks: [
        {
          check: 'role',
          status: 'warn',
          message: `role ${session.role} may also ${excessive.map((row) => `${row.extra.join(', ')} ${row.name}`).join('; ')}, which the exporter never needs`,
          fix,
        },
      ],
    };
  }
  // A role that may create objects where the tables are could plant what the owner's own
  // statements resolve to (the rollup triggers are immune; `migrate` and upkeep run as the owner).
  const creatable = await client.query<{ schema: string; everyone: boolean }>(
    `select quote_ident(n.nspname) as schema, has_schema_privilege('public', n.oid, 'CREATE') as everyone
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.oid = to_regclass('api_access_log') and has_schema_privilege(n.oid, 'CREATE')`,
  );
  const writable = creatable.rows[0];
  if (writable !== undefined) {
    return {
      checks: [
        {
          check: 'role',
          status: 'warn',
          message: `role ${session.role} may create objects in schema ${writable.schema}${writable.everyone ? ' (as every role may)' : ''}, which the exporter never needs: it could plant functions that the owner's statements there run`,
          fix: `as the owner of the schema, run \`REVOKE CREATE ON SCHEMA ${writable.schema} FROM ${writable.everyone ? 'PUBLIC' : session.quotedRole}\``,
        },
      ],
    };
  }
  return {
    checks: [
      {
        check: 'role',
        status: 'ok',
        message: `role ${session.role} is neither a superuser nor the owner of the log tables, and may not change or delete their rows`,
      },
    ],
  };
}

/** A by-reason counter object from jsonb; anything that is not a positive number is ignored. */
function counts(value: unknown): Record<string, number> {
  const result: Record<string, number> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return result;
  for (const [reason, count] of Object.entries(value)) {
    if (typeof count === 'number' && Number.isFinite(count) && count > 0) result[reason] = count;
  }
  return result;
}

async function spoolCheck(dir: string): Promise<DoctorCheck> {
  try {
    const spool = await inspectSpool(dir);
    if (!spool.exists) {
      return { check: 'spool', status: 'ok', message: `${dir} does not exist: nothing was spooled there` };
    }
    if (spool.problem !== undefined) {
      const { path: refused, problem } = spool.problem;
      return {
        check: 'spool',
        status: 'fail',
        message: `${refused} ${problem}: the app refuses it (another user could put rows there, or choose where they come from), so rows Postgres cannot take are dropped instead of spooled`,
        fix:
          refused === dir
            ? `set OTEL_ANALYTICS_SPOOL_DIR to a directory (or the app user's own link to one); run doctor as the user the app runs as`
            : `other users can write ${dir}, so the app spools in ${refused}, which another user made first: remove it if it is not the app user's, or set OTEL_ANALYTICS_SPOOL_DIR to a directory only the app user can write; run doctor as the user the app runs as`,
      };
    }
    if (spool.spoolsIn === undefined) {
      return {
        check: 'spool',
        status: 'ok',
        message: `${dir}: nothing spooled (other users can write it, so the app spools in a folder of its own there, not made yet)`,
      };
    }
    const where =
      spool.spoolsIn === dir
        ? dir
        : `${spool.spoolsIn} (the app's own folder of ${dir}, which other users can write)`;
    const pending =
      spool.segments === 0
        ? `${where}: nothing pending (${plural(spool.instanceFolders, 'instance folder')})`
        : `${where}: ${plural(spool.segments, 'segment file')} (${formatBytes(spool.bytes)}) pending in ${spool.pendingFolders} of ${plural(spool.instanceFolders, 'instance folder')}`;
    if (spool.segments === 0 && spool.refused.length === 0) {
      return { check: 'spool', status: 'ok', message: pending };
    }
    const messages = [pending];
    const fixes: string[] = [];
    if (spool.segments > 0) {
      fixes.push(
        'these rows could not be written yet; the next process that starts with this spool dir and this database replays them (start one if none runs), and the pipeline check says why they were spooled',
      );
    }
    if (spool.refused.length > 0) {
      const shown = spool.refused.slice(0, 3).map((r) => `${r.path} ${r.problem}`);
      if (spool.refused.length > shown.length) shown.push('...');
      messages.push(`${plural(spool.refused.length, 'folder')} refused, never replayed: ${shown.join('; ')}`);
      fixes.push(
        "another user could have written the refused folders' rows: remove those that are not the app user's; make those that are its alone (chown, chmod go-w) to have them replayed",
      );
    }
    return { check: 'spool', status: 'warn', message: messages.join('; '), fix: fixes.join('; ') };
  } catch (error) {
    return {
      check: 'spool',
      status: 'warn',
      message: `cannot read the spool ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'run doctor as the user the app runs as, or check the path',
    };
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

import { sql, type Kysely } from 'kysely';
import {
  PIPELINE_STATS_COLUMNS,
  TABLE_COLUMNS,
  type AnalyticsDatabase,
  type ColumnSpec,
} from '../database/analytics-database.js';
import { SCHEMA_VERSION } from '../admin/migrate.js';
import { MIGRATE_FIX } from './migrate-fix.js';
import type { CheckOutcome } from './run-check.js';

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

/** The expected tables that exist, and those of them with the expected columns. */
export interface TablesFound {
  present: string[];
  intact: string[];
}

/** Compares the tables with what the exporter writes. */
export async function tablesCheck(
  db: Kysely<AnalyticsDatabase>,
  version: number | undefined,
): Promise<CheckOutcome<TablesFound>> {
  const names = EXPECTED_TABLES.map((t) => t.name);
  const { rows } = await sql<{
    table_name: string;
    present: boolean;
    column_name: string | null;
    type: string | null;
    required: boolean | null;
  }>`select t.name as table_name, to_regclass(t.name) is not null as present,
            a.attname::text as column_name, a.atttypid::regtype::text as type,
            a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = '' as required
     from unnest(${names}::text[]) as t(name)
     left join pg_attribute a
       on a.attrelid = to_regclass(t.name) and a.attnum > 0 and not a.attisdropped`.execute(db);
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
            : MIGRATE_FIX,
      },
    ],
    value: { present, intact },
  };
}

function typeName(column: ColumnSpec): string {
  return column.jsonb ? 'jsonb' : TYPE_NAMES[column.type];
}

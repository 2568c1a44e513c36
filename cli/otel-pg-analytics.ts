#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { databaseUrlOf } from './database-url-of.js';
import { doctor } from '../doctor/doctor.js';
import { forget } from '../admin/forget.js';
import { migrate, readSchemaSql, SCHEMA_VERSION } from '../admin/migrate.js';
import { isLayoutOption, LAYOUT_OPTIONS } from '../admin/database-layout.js';
import {
  DEFAULT_PARTITION_DAYS_AHEAD,
  parseRetention,
  partitionUpkeep,
  prunePartitions,
} from '../admin/partitions.js';
import {
  DEFAULT_READER_ROLE,
  DEFAULT_WRITER_ROLE,
  migrateRoles,
  type RoleMigration,
} from '../admin/migrate-roles.js';
import { loadReportData } from '../report/report-data.js';
import { renderReport } from '../report/render-report.js';
import { resolveReportRange } from '../report/resolve-report-range.js';
import { reprice } from '../admin/reprice.js';
import { ingestCommand } from './ingest-command.js';
import { loadConfigFile } from '../src/config-file.js';
import { maskUrlPassword } from '../src/privacy/redactor.js';
import { resolveConfig } from '../src/config.js';
import { readEnv } from '../src/env.js';
import { VERSION } from '../src/version.js';

const USAGE = `Usage: otel-pg-analytics <command> [options]

Commands:
  migrate          Create or upgrade the tables (needs the owner role), to schema version ${SCHEMA_VERSION}
  migrate --roles  Then create (if missing) and grant the least-privilege roles: a writer that
                   may only INSERT (for the app) and a reader that may only SELECT (doctor,
                   report, Grafana); idempotent. NOLOGIN group roles, or LOGIN roles with
                   OTEL_ANALYTICS_WRITER_PASSWORD / OTEL_ANALYTICS_READER_PASSWORD. Needs the
                   owner role and CREATEROLE
  reprice          Recompute the cost of past LLM calls from their stored tokens and the current
                   price table (and the modelPrices of OTEL_ANALYTICS_CONFIG); a dry run unless --apply
  forget           Erase a user (data-subject request): delete their rows in every table with a
                   user_id, or with --anonymize keep them without the user; matches the id as
                   given and its HMAC pseudonym when OTEL_ANALYTICS_HMAC_KEY is set. Run it as
                   the owner role (the app's writer may not delete or update)
  schema           Print schema.sql
  doctor           Check the connection, schema, privileges, role, pipeline health and spool, and
                   say what to fix; exits 1 when a check fails
  ingest           Receive OTLP/HTTP trace exports (POST /v1/traces) from services in other
                   languages and write their rows; needs OTEL_ANALYTICS_INGEST_TOKEN off loopback
  partitions       Create the daily partitions of the log tables a week ahead (--days-ahead), and
                   with OTEL_ANALYTICS_RETENTION (e.g. 30d) drop the expired ones; run it daily.
                   On Citus it also rolls the new rows up into the hourly rollups: run it every
                   minute or so there
  prune            Drop the daily partitions older than --older-than (30d, 12h, 2w)
  report           Write a self-contained HTML report (charts as inline SVG): API traffic, errors
                   and latency, auth events and possible brute force, external calls and cost

Options:
  --database-url <url>   Postgres connection string (default: OTEL_ANALYTICS_DATABASE_URL, then DATABASE_URL)
  --roles                migrate: also create and grant the writer and reader roles
  --writer-role <name>   migrate --roles: the INSERT-only role (default: ${DEFAULT_WRITER_ROLE})
  --reader-role <name>   migrate --roles: the SELECT-only role (default: ${DEFAULT_READER_ROLE})
  --layout <layout>      migrate: auto (default: distributed on a Citus coordinator, else single),
                         single, or distributed (the log tables distributed by trace_id; docs/citus.md)
  --since <date>         reprice, report: start (ISO date or time)
  --until <date>         reprice, report: end, exclusive (default: now)
  --days-ahead <n>       partitions: days of partitions to keep ahead (default: 7)
  --older-than <age>     prune: drop partitions whose day ended longer ago than this (30d, 12h, 2w)
  --last <duration>      report: instead of --since, this long before --until: 90m, 24h, 7d (default: 24h)
  --out <file>           report: where to write the HTML (default: otel-pg-analytics-report.html)
  --exact                report: read every row for the percentiles, users and per-user tables
                         rather than a sample when the range holds more than about 50,000 (slower)
  --apply                reprice: write the new costs
  --user <id>            forget: the user's id, as the app passed it
  --anonymize            forget: keep the rows, with user_id null and user-naming metadata keys removed
  --dry-run              forget: print the counts only, change nothing
  --hmac-key-env <VAR>   forget: read the HMAC key from VAR (default: OTEL_ANALYTICS_HMAC_KEY)
  --spool-dir <dir>      doctor: spool directory to inspect (default: OTEL_ANALYTICS_SPOOL_DIR)
  --host <address>       ingest: address to listen on (default: 127.0.0.1)
  --port <port>          ingest: port to listen on (default: 4318)
  -h, --help             Show this help
  -v, --version          Show the version
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      last: { type: 'string' },
      'days-ahead': { type: 'string' },
      'older-than': { type: 'string' },
      out: { type: 'string' },
      exact: { type: 'boolean' },
      apply: { type: 'boolean' },
      roles: { type: 'boolean' },
      layout: { type: 'string' },
      'writer-role': { type: 'string' },
      'reader-role': { type: 'string' },
      user: { type: 'string' },
      anonymize: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'hmac-key-env': { type: 'string' },
      'spool-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 1 : 0;
  }
  switch (command) {
    case 'schema':
      process.stdout.write(readSchemaSql());
      return 0;
    case 'reprice': {
      const env = readEnv();
      const config = resolveConfig({}, { env, file: await loadConfigFile(env.OTEL_ANALYTICS_CONFIG) });
      const url = values['database-url'] ?? config.databaseUrl;
      const since = parseDate(values.since);
      const until = parseDate(values.until);
      if (url === undefined || since === undefined || (values.until !== undefined && until === undefined)) {
        process.stderr.write(
          'otel-pg-analytics reprice: needs --since <date> (and a database: OTEL_ANALYTICS_DATABASE_URL or --database-url)\n',
        );
        return 2;
      }
      const summary = await reprice(url, {
        since,
        ...(until !== undefined && { until }),
        apply: values.apply === true,
        modelPrices: config.modelPrices,
      });
      const usd = (n: number) => `$${n.toFixed(6)}`;
      process.stdout.write(
        [
          `calls with token usage: ${summary.rows}`,
          `total cost before: ${usd(summary.totalBefore)} (${summary.unknownBefore} without a price)`,
          `total cost after:  ${usd(summary.totalAfter)} (${summary.unknownAfter} without a price)`,
          `calls whose cost changes: ${summary.changed}`,
          ...Object.entries(summary.unknownModels).map(
            ([model, n]) => `  no price for ${model}: ${n} call(s)`,
          ),
          summary.applied ? 'applied.' : 'dry run: nothing changed (pass --apply to write the new costs).',
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'doctor': {
      const env = readEnv();
      const url = await databaseUrlOf('doctor', values['database-url'], env);
      if (url === undefined) return 2;
      const spoolDir = values['spool-dir'] ?? (env.OTEL_ANALYTICS_SPOOL_DIR || undefined);
      const report = await doctor(url, spoolDir === undefined ? {} : { spoolDir });
      for (const { check, status, message, fix } of report) {
        process.stdout.write(`${status.padEnd(4)} ${check}: ${message}${fix ? ` — fix: ${fix}` : ''}\n`);
      }
      return report.some((check) => check.status === 'fail') ? 1 : 0;
    }
    case 'partitions':
    case 'prune': {
      const env = readEnv();
      const url = await databaseUrlOf(command, values['database-url'], env);
      if (url === undefined) return 2;
      const retentionText = command === 'prune' ? values['older-than'] : env.OTEL_ANALYTICS_RETENTION;
      const retention = retentionText === undefined ? undefined : parseRetention(retentionText);
      if ((command === 'prune' || retentionText !== undefined) && retention === undefined) {
        process.stderr.write(
          `otel-pg-analytics ${command}: ${command === 'prune' ? '--older-than' : 'OTEL_ANALYTICS_RETENTION'} must be an age such as 30d, 12h or 2w, not ${JSON.stringify(retentionText ?? '')}\n`,
        );
        return 2;
      }
      if (command === 'partitions') {
        const daysAhead =
          values['days-ahead'] === undefined ? DEFAULT_PARTITION_DAYS_AHEAD : Number(values['days-ahead']);
        if (!Number.isInteger(daysAhead) || daysAhead < 0 || daysAhead > 366) {
          process.stderr.write(
            'otel-pg-analytics partitions: --days-ahead must be a whole number of days (0 to 366)\n',
          );
          return 2;
        }
        const { created, rolledUp } = await partitionUpkeep(url, daysAhead);
        process.stdout.write(
          `created ${created.length} partition(s)${created.length ? `: ${created.join(', ')}` : ''}\n`,
        );
        if (rolledUp.length > 0) {
          const rows = rolledUp.reduce((sum, { rows }) => sum + (rows ?? 0), 0);
          const tables = rolledUp.map(({ table, rows }) => `${table} ${rows ?? 'left for the next run'}`);
          process.stdout.write(`rolled up ${rows} row(s): ${tables.join(', ')}\n`);
        }
      }
      if (retention !== undefined) {
        const dropped = await prunePartitions(url, retention);
        process.stdout.write(
          `dropped ${dropped.length} partition(s) older than ${retention}${dropped.length ? `: ${dropped.join(', ')}` : ''}\n`,
        );
      }
      return 0;
    }
    case 'ingest':
      return ingestCommand({ host: values.host, port: values.port, databaseUrl: values['database-url'] });
    case 'report': {
      const env = readEnv();
      const url = await databaseUrlOf('report', values['database-url'], env);
      if (url === undefined) return 2;
      const range = resolveReportRange(
        {
          ...(values.since !== undefined && { since: values.since }),
          ...(values.until !== undefined && { until: values.until }),
          ...(values.last !== undefined && { last: values.last }),
        },
        new Date(),
      );
      if (typeof range === 'string') {
        process.stderr.write(`otel-pg-analytics report: ${range}\n`);
        return 2;
      }
      const out = path.resolve(values.out ?? 'otel-pg-analytics-report.html');
      writeFileSync(out, renderReport(await loadReportData(url, { ...range, exact: values.exact === true })));
      process.stdout.write(
        `${out}: report of ${range.since.toISOString()} to ${range.until.toISOString()} from ${maskUrlPassword(url)}\n`,
      );
      return 0;
    }
    case 'migrate': {
      const env = readEnv();
      const url = await databaseUrlOf('migrate', values['database-url'], env);
      if (url === undefined) return 2;
      const layout = values.layout ?? 'auto';
      if (!isLayoutOption(layout)) {
        process.stderr.write(
          `otel-pg-analytics migrate: --layout must be one of ${LAYOUT_OPTIONS.join(', ')}, not ${JSON.stringify(layout)}\n`,
        );
        return 2;
      }
      const result = await migrate(url, { layout });
      const what =
        result.applied.length === 0 ? 'already up to date' : `applied ${result.applied.join(', ')}`;
      process.stdout.write(
        `${maskUrlPassword(url)}: schema version ${result.to} (was ${result.from}); ${what}; layout ${result.layout}\n`,
      );
      if (!values.roles) return 0;
      // An empty variable counts as unset: PostgreSQL would take '' as "no password" anyway.
      const roles = await migrateRoles(url, {
        ...(values['writer-role'] !== undefined && { writerRole: values['writer-role'] }),
        ...(values['reader-role'] !== undefined && { readerRole: values['reader-role'] }),
        ...(env.OTEL_ANALYTICS_WRITER_PASSWORD && { writerPassword: env.OTEL_ANALYTICS_WRITER_PASSWORD }),
        ...(env.OTEL_ANALYTICS_READER_PASSWORD && { readerPassword: env.OTEL_ANALYTICS_READER_PASSWORD }),
      });
      process.stdout.write(
        [
          describeRole('writer (INSERT only)', roles.writer),
          describeRole('reader (SELECT only)', roles.reader),
          `  (and SELECT on tables and views ${roles.owner} creates later in schema ${roles.schema})`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'forget': {
      const env = readEnv();
      const url = values['database-url'] ?? resolveConfig({}, { env }).databaseUrl;
      const userId = values.user;
      if (url === undefined || userId === undefined || userId.length === 0) {
        process.stderr.write(
          'otel-pg-analytics forget: needs --user <id> (and a database: OTEL_ANALYTICS_DATABASE_URL or --database-url)\n',
        );
        return 2;
      }
      const keyVariable = values['hmac-key-env'];
      // A variable named on the command line may have any name, so it is read here, at the edge.
      const hmacKey =
        keyVariable === undefined
          ? env.OTEL_ANALYTICS_HMAC_KEY || undefined
          : process.env[keyVariable] || undefined;
      if (keyVariable !== undefined && hmacKey === undefined) {
        // Without the key, pseudonymized rows would silently stay: refuse rather than half-forget.
        process.stderr.write(
          `otel-pg-analytics forget: --hmac-key-env names ${keyVariable}, which is not set\n`,
        );
        return 2;
      }
      const result = await forget(url, {
        userId,
        ...(hmacKey !== undefined && { hmacKey }),
        anonymize: values.anonymize === true,
        dryRun: values['dry-run'] === true,
      });
      const verb = { deleted: 'deleted', anonymized: 'anonymized', counted: 'would be erased' }[
        result.action
      ];
      process.stdout.write(
        [
          result.matchedPseudonym
            ? 'matched the id as given and its HMAC pseudonym'
            : 'matched the id as given only (no HMAC key: pseudonymized rows, if any, are not matched)',
          ...result.tables.map(({ table, rows }) => `${table}: ${rows} row${rows === 1 ? '' : 's'} ${verb}`),
          result.action === 'counted' ? 'dry run: nothing changed.' : '',
          '',
        ]
          .filter((line, index, lines) => line !== '' || index === lines.length - 1)
          .join('\n'),
      );
      return 0;
    }
    default:
      process.stderr.write(`otel-pg-analytics: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

/** What `migrate --roles` did to a role, for the terminal: never its password. */
function describeRole(what: string, role: RoleMigration): string {
  const state = role.created ? 'created' : 'exists';
  const login = role.login ? `LOGIN${role.passwordSet ? ', password set' : ''}` : 'NOLOGIN';
  return [
    `${what} ${role.role}: ${state} (${login})`,
    ...role.statements.map((statement) => `  ${statement}`),
  ].join('\n');
}

/** A date from the command line, or `undefined` when absent or not a date. */
function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`otel-pg-analytics: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

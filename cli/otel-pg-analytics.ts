#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { doctor } from '../exporter/doctor.js';
import { migrate, readSchemaSql, SCHEMA_VERSION } from '../exporter/migrate.js';
import { loadReportData } from '../exporter/report-data.js';
import { renderReport } from '../exporter/render-report.js';
import { resolveReportRange } from '../exporter/resolve-report-range.js';
import { reprice } from '../exporter/reprice.js';
import { loadConfigFile } from '../src/config-file.js';
import { isPostgresUrl } from '../src/internal/postgres-url.js';
import { maskUrlPassword } from '../src/internal/redactor.js';
import { resolveConfig } from '../src/config.js';
import { readEnv } from '../src/env.js';
import { VERSION } from '../src/version.js';

const USAGE = `Usage: otel-pg-analytics <command> [options]

Commands:
  migrate          Create or upgrade the tables (needs the owner role), to schema version ${SCHEMA_VERSION}
  reprice          Recompute the cost of past LLM calls from their stored tokens and the current
                   price table (and the modelPrices of OTEL_ANALYTICS_CONFIG); a dry run unless --apply
  schema           Print schema.sql
  doctor           Check the connection, schema, privileges, pipeline health and spool, and say
                   what to fix; exits 1 when a check fails
  report           Write a self-contained HTML report (charts as inline SVG): API traffic, errors
                   and latency, auth events and possible brute force, external calls and cost

Options:
  --database-url <url>   Postgres connection string (default: OTEL_ANALYTICS_DATABASE_URL, then DATABASE_URL)
  --since <date>         reprice, report: start (ISO date or time)
  --until <date>         reprice, report: end, exclusive (default: now)
  --last <duration>      report: instead of --since, this long before --until: 90m, 24h, 7d (default: 24h)
  --out <file>           report: where to write the HTML (default: otel-pg-analytics-report.html)
  --apply                reprice: write the new costs
  --spool-dir <dir>      doctor: spool directory to inspect (default: OTEL_ANALYTICS_SPOOL_DIR)
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
      out: { type: 'string' },
      apply: { type: 'boolean' },
      'spool-dir': { type: 'string' },
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
      const config = resolveConfig({}, { env, file: await loadConfigFile(env.OTEL_ANALYTICS_CONFIG) });
      const url = values['database-url'] ?? config.databaseUrl;
      if (url === undefined || !isPostgresUrl(url)) {
        process.stderr.write(
          url === undefined
            ? 'otel-pg-analytics doctor: set OTEL_ANALYTICS_DATABASE_URL or pass --database-url\n'
            : 'otel-pg-analytics doctor: --database-url must be a postgres:// or postgresql:// URL\n',
        );
        return 2;
      }
      const spoolDir = values['spool-dir'] ?? (env.OTEL_ANALYTICS_SPOOL_DIR || undefined);
      const report = await doctor(url, spoolDir === undefined ? {} : { spoolDir });
      for (const { check, status, message, fix } of report) {
        process.stdout.write(`${status.padEnd(4)} ${check}: ${message}${fix ? ` — fix: ${fix}` : ''}\n`);
      }
      return report.some((check) => check.status === 'fail') ? 1 : 0;
    }
    case 'report': {
      const env = readEnv();
      const config = resolveConfig({}, { env, file: await loadConfigFile(env.OTEL_ANALYTICS_CONFIG) });
      const url = values['database-url'] ?? config.databaseUrl;
      if (url === undefined || !isPostgresUrl(url)) {
        process.stderr.write(
          url === undefined
            ? 'otel-pg-analytics report: set OTEL_ANALYTICS_DATABASE_URL or pass --database-url\n'
            : 'otel-pg-analytics report: --database-url must be a postgres:// or postgresql:// URL\n',
        );
        return 2;
      }
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
      writeFileSync(out, renderReport(await loadReportData(url, range)));
      process.stdout.write(
        `${out}: report of ${range.since.toISOString()} to ${range.until.toISOString()} from ${maskUrlPassword(url)}\n`,
      );
      return 0;
    }
    case 'migrate': {
      const url = values['database-url'] ?? resolveConfig({}, { env: readEnv() }).databaseUrl;
      if (url === undefined) {
        process.stderr.write(
          'otel-pg-analytics migrate: set OTEL_ANALYTICS_DATABASE_URL or pass --database-url\n',
        );
        return 2;
      }
      const result = await migrate(url);
      const what =
        result.applied.length === 0 ? 'already up to date' : `applied ${result.applied.join(', ')}`;
      process.stdout.write(
        `${maskUrlPassword(url)}: schema version ${result.to} (was ${result.from}); ${what}\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(`otel-pg-analytics: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
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

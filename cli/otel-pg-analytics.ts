#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { migrate, readSchemaSql, SCHEMA_VERSION } from '../exporter/migrate.js';
import { maskUrlPassword } from '../src/internal/redactor.js';
import { resolveConfig } from '../src/config.js';
import { readEnv } from '../src/env.js';
import { VERSION } from '../src/version.js';

const USAGE = `Usage: otel-pg-analytics <command> [options]

Commands:
  migrate          Create or upgrade the tables (needs the owner role), to schema version ${SCHEMA_VERSION}
  schema           Print schema.sql

Options:
  --database-url <url>   Postgres connection string (default: OTEL_ANALYTICS_DATABASE_URL, then DATABASE_URL)
  -h, --help             Show this help
  -v, --version          Show the version
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`otel-pg-analytics: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

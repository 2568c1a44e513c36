// @ts-check
/**
 * Rewrites the generated options tables of docs/ (between their `config-table` markers) from
 * the option specs: the package's (src/config/analytics-options.ts) in configuration.md, the
 * exporter's (exporter/postgres-span-exporter-config.ts) in composing.md and the OTLP
 * receiver's (ingest/ingest-server-options.ts) in otlp-ingest.md. It reads the build: run
 * `npm run build && node scripts/config-table.mjs`. test/unit/configuration-docs.test.ts fails
 * while a committed table and its specs disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPORTER_OPTIONS } from '../dist/exporter/postgres-span-exporter-config.js';
import { INGEST_SERVER_OPTIONS } from '../dist/ingest/ingest-server-options.js';
import { ANALYTICS_OPTIONS } from '../dist/src/config/analytics-options.js';
import { renderConfigTable, spliceConfigTable } from '../dist/src/config/config-table.js';

/** @type {ReadonlyArray<[page: string, specs: Record<string, import('../dist/src/config/option-spec.js').OptionSpec<unknown>>]>} */
const TABLES = [
  ['configuration.md', ANALYTICS_OPTIONS],
  ['composing.md', EXPORTER_OPTIONS],
  ['otlp-ingest.md', INGEST_SERVER_OPTIONS],
];

const docs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');
for (const [page, specs] of TABLES) {
  const file = path.join(docs, page);
  const before = readFileSync(file, 'utf8');
  const after = spliceConfigTable(before, renderConfigTable(specs));
  if (after !== before) writeFileSync(file, after);
  console.log(`docs/${page}: ${after === before ? 'the table was up to date' : 'table rewritten'}`);
}

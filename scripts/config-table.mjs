// @ts-check
/**
 * Rewrites the options table of docs/configuration.md (between its `config-table` markers) from
 * the option specs in src/config/analytics-options.ts. It reads the build: run
 * `npm run build && node scripts/config-table.mjs`. test/unit/configuration-docs.test.ts fails
 * while the committed table and the specs disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANALYTICS_OPTIONS } from '../dist/src/config/analytics-options.js';
import { renderConfigTable, spliceConfigTable } from '../dist/src/config/config-table.js';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'configuration.md');
const before = readFileSync(file, 'utf8');
const after = spliceConfigTable(before, renderConfigTable(ANALYTICS_OPTIONS));
if (after !== before) writeFileSync(file, after);
console.log(`docs/configuration.md: ${after === before ? 'the table was up to date' : 'table rewritten'}`);

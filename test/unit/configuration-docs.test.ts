import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  EXPORTER_OPTIONS,
  type PostgresSpanExporterConfig,
  type ResolvedPostgresSpanExporterConfig,
} from '../../exporter/postgres-span-exporter-config.js';
import {
  INGEST_SERVER_OPTIONS,
  type IngestServerOptions,
  type ResolvedIngestServerOptions,
} from '../../ingest/ingest-server-options.js';
import { ANALYTICS_OPTIONS } from '../../src/config/analytics-options.js';
import {
  CONFIG_TABLE_END,
  CONFIG_TABLE_START,
  defaultCell,
  renderConfigTable,
  spliceConfigTable,
} from '../../src/config/config-table.js';
import type { OptionSpec } from '../../src/config/option-spec.js';
import type { AnalyticsConfig, ResolvedAnalyticsConfig } from '../../src/config.js';
import type { TrustedProxies } from '../../src/privacy/trusted-proxies.js';
import { ROOT } from '../helpers/app-process.js';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** The TSDoc of each property of `interfaceName` in `file`, whitespace folded. */
function propertyDocs(file: string, interfaceName: string): Map<string, string> {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
  const docs = new Map<string, string>();
  ts.forEachChild(source, (node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== interfaceName) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
      const text = ts
        .getJSDocCommentsAndTags(member)
        .map((doc) => (ts.isJSDoc(doc) ? (ts.getTextOfJSDocComment(doc.comment) ?? '') : ''))
        .join(' ');
      docs.set(member.name.text, text.replace(/\s+/g, ' '));
    }
  });
  return docs;
}

/**
 * What the TSDoc of an option must say for it to agree with its spec: every env var the option
 * is read from, and a plain default (a number, a word, a boolean) as the docs show it.
 */
function disagreements(docs: Map<string, string>, specs: Record<string, OptionSpec<unknown>>): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const doc = docs.get(name);
    if (doc === undefined) {
      problems.push(`${name}: no TSDoc`);
      continue;
    }
    for (const reader of spec.env ?? []) {
      if (!doc.includes(`\`${reader.name}`)) problems.push(`${name}: TSDoc does not name ${reader.name}`);
    }
    const value = 'default' in spec ? spec.default : undefined;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
      const said = `Defaults to ${defaultCell(spec)}`;
      const escaped = said.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (!new RegExp(`${escaped}(?![\\w])`).test(doc))
        problems.push(`${name}: TSDoc does not say "${said}"`);
    }
  }
  return problems;
}

describe('docs/configuration.md', () => {
  it('holds the options table rendered from the option specs (run scripts/config-table.mjs after changing a spec)', () => {
    const markdown = read('docs/configuration.md');
    expect(markdown).toContain(CONFIG_TABLE_START);
    expect(markdown).toContain(CONFIG_TABLE_END);
    const table = renderConfigTable(ANALYTICS_OPTIONS);
    expect(spliceConfigTable(markdown, table)).toBe(markdown);
    // Every option has its row, in the order of the specs.
    const rows = table.split('\n').slice(2);
    expect(rows.map((row) => /^\| `(\w+)`/.exec(row)?.[1])).toEqual(Object.keys(ANALYTICS_OPTIONS));
  });

  it('shows each option with its env vars in order of precedence and its default', () => {
    const table = renderConfigTable(ANALYTICS_OPTIONS);
    expect(table).toContain(
      '| `scheduledDelayMillis` | `OTEL_BSP_SCHEDULE_DELAY` (ms), then `ANALYTICS_FLUSH_INTERVAL_SECONDS` (s) | flush interval of `time` and `hybrid` | 5000 |',
    );
    expect(table).toContain(
      '| `retryDeadlineMillis` | — | how long a batch is retried while Postgres is unreachable, before the spool | 30000 |',
    );
    expect(table).toContain('| `handleSignals` | `OTEL_ANALYTICS_HANDLE_SIGNALS` |');
    expect(table).toMatch(/\| `redactKeys` \|.*\| none \|$/m);
  });

  it('rewrites only the part between the markers', () => {
    const doc = `# T\n\nbefore\n\n${CONFIG_TABLE_START}\nold\n${CONFIG_TABLE_END}\n\nafter\n`;
    expect(spliceConfigTable(doc, '| new |')).toBe(
      `# T\n\nbefore\n\n${CONFIG_TABLE_START}\n| new |\n${CONFIG_TABLE_END}\n\nafter\n`,
    );
    expect(() => spliceConfigTable('# no markers', '| new |')).toThrow(/config-table:start/);
  });
});

describe('the generated tables of docs/composing.md and docs/otlp-ingest.md', () => {
  it.each([
    ['docs/composing.md', EXPORTER_OPTIONS],
    ['docs/otlp-ingest.md', INGEST_SERVER_OPTIONS],
  ] as const)(
    '%s holds the table rendered from its specs, a row per option in their order',
    (page, specs) => {
      const markdown = read(page);
      const table = renderConfigTable(specs);
      expect(spliceConfigTable(markdown, table)).toBe(markdown);
      const rows = table.split('\n').slice(2);
      expect(rows.map((row) => /^\| `(\w+)`/.exec(row)?.[1])).toEqual(Object.keys(specs));
    },
  );

  it('leaves out the env var column when no option has one (the exporter reads none)', () => {
    const table = renderConfigTable(EXPORTER_OPTIONS);
    expect(table.split('\n')[0]).toBe('| option | meaning | default |');
    expect(table).toContain('| `maxBatchRows` | rows per INSERT statement | 1000 |');
    expect(table).toContain(
      '| `maxSpoolBytes` | bytes the spool may hold; rows beyond are dropped and counted | 256 MiB |',
    );
  });

  it("shows the receiver's env vars, with the byte units they take", () => {
    const table = renderConfigTable(INGEST_SERVER_OPTIONS);
    expect(table).toMatch(
      /^\| `maxInFlightBytes` \| `OTEL_ANALYTICS_INGEST_MAX_IN_FLIGHT_BYTES` \(bytes, or `KiB`, `MiB`, `GiB`\) \|.*\| 64 MiB \|$/m,
    );
    expect(table).toMatch(/^\| `token` \| `OTEL_ANALYTICS_INGEST_TOKEN` \|/m);
    expect(table).toContain('| `port` | — | the port to listen on (`--port`); `0` picks a free one | 4318 |');
  });
});

describe('the hand-written option types', () => {
  it('AnalyticsConfig names the env vars and defaults of the specs in its TSDoc', () => {
    expect(disagreements(propertyDocs('src/config.ts', 'AnalyticsConfig'), ANALYTICS_OPTIONS)).toEqual([]);
  });

  it('PostgresSpanExporterConfig names the defaults of its specs in its TSDoc', () => {
    const docs = propertyDocs('exporter/postgres-span-exporter-config.ts', 'PostgresSpanExporterConfig');
    expect(disagreements(docs, EXPORTER_OPTIONS)).toEqual([]);
  });

  it('IngestServerOptions names the env vars and defaults of its specs in its TSDoc', () => {
    const docs = propertyDocs('ingest/ingest-server-options.ts', 'IngestServerOptions');
    expect(disagreements(docs, INGEST_SERVER_OPTIONS)).toEqual([]);
  });

  it('finds a TSDoc that disagrees with a spec', () => {
    const docs = new Map([['retryDeadlineMillis', 'Defaults to 300000.']]);
    expect(disagreements(docs, { retryDeadlineMillis: ANALYTICS_OPTIONS.retryDeadlineMillis })).toEqual([
      'retryDeadlineMillis: TSDoc does not say "Defaults to 30000"',
    ]);
    const noEnv = new Map([['maxQueueSize', 'Defaults to 2048.']]);
    expect(disagreements(noEnv, { maxQueueSize: ANALYTICS_OPTIONS.maxQueueSize })).toEqual([
      'maxQueueSize: TSDoc does not name OTEL_BSP_MAX_QUEUE_SIZE',
    ]);
  });

  it('derives the resolved types from the specs (the specs satisfy the option interfaces)', () => {
    expectTypeOf<keyof ResolvedAnalyticsConfig>().toEqualTypeOf<keyof AnalyticsConfig>();
    expectTypeOf<keyof ResolvedPostgresSpanExporterConfig>().toEqualTypeOf<
      keyof PostgresSpanExporterConfig
    >();
    expectTypeOf<keyof ResolvedIngestServerOptions>().toEqualTypeOf<keyof IngestServerOptions>();
    // A resolved config is a valid input again.
    expectTypeOf<ResolvedAnalyticsConfig>().toExtend<AnalyticsConfig>();
    expectTypeOf<ResolvedAnalyticsConfig['databaseUrl']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ResolvedAnalyticsConfig['spoolDir']>().toEqualTypeOf<string | false>();
    expectTypeOf<ResolvedAnalyticsConfig['sampleRate']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedAnalyticsConfig['excludedPaths']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<ResolvedAnalyticsConfig['trustedProxies']>().toEqualTypeOf<TrustedProxies>();
    expectTypeOf<ResolvedPostgresSpanExporterConfig['spoolDir']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ResolvedPostgresSpanExporterConfig['maxBatchRows']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedIngestServerOptions['host']>().toEqualTypeOf<string>();
    expectTypeOf<ResolvedIngestServerOptions['token']>().toEqualTypeOf<string | undefined>();
  });
});

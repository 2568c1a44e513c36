import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/app-process.js';

/**
 * Every exported name is a promise to users, so each entry point's list is pinned here: a name
 * added or removed fails this test until the list (and the changelog) says so on purpose.
 * Values are what `import()` of the built package gives; types are what its declarations add.
 */
const PUBLIC_API: Record<string, { values: string[]; types: string[] }> = {
  '.': {
    values: [
      'AnalyticsError',
      'AnalyticsSpanProcessor',
      'ConfigError',
      'HostScopedPropagator',
      'batchSpanProcessorOptions',
      'createAnalyticsInstrumentations',
      'createHttpInstrumentationConfig',
      'createUndiciInstrumentationConfig',
      'forceFlush',
      'getPipelineStats',
      'readEnv',
      'recordAuthEvent',
      'resolveConfig',
      'runAsUser',
      'setUser',
      'shutdown',
    ],
    types: [
      'AnalyticsConfig',
      'AnalyticsSpanProcessorConfig',
      'AuthEvent',
      'AuthEventType',
      'ConfigSources',
      'CostModel',
      'EnvSnapshot',
      'FlushStrategy',
      'IpMode',
      'ModelPrice',
      'ModelPriceTier',
      'PipelineStats',
      'ResolvedAnalyticsConfig',
      'ServiceDefinition',
      'UserIdMode',
    ],
  },
  './register': { values: [], types: [] },
  './exporter': {
    values: ['PostgresSpanExporter'],
    types: [
      'AnalyticsDatabase',
      'ApiAccessLogRow',
      'AuthenticationLogRow',
      'ExporterStats',
      'ExternalApiCallLogRow',
      'PipelineStatsRow',
      'PostgresPoolLike',
      'PostgresSpanExporterConfig',
    ],
  },
  './admin': {
    values: [
      'doctor',
      'ensurePartitions',
      'forget',
      'loadReportData',
      'migrate',
      'migrateRoles',
      'prunePartitions',
      'renderReport',
      'resolveReportRange',
      'rollUp',
    ],
    types: [
      'DoctorCheck',
      'DoctorCheckName',
      'DoctorOptions',
      'DoctorStatus',
      'ForgetOptions',
      'ForgetResult',
      'LoadReportOptions',
      'MigrateOptions',
      'MigrateRolesOptions',
      'MigrateRolesResult',
      'MigrationResult',
      'ReportBucket',
      'ReportData',
      'ReportRange',
      'ReportRangeOptions',
      'ReportTable',
      'RoleMigration',
      'RolledUp',
    ],
  },
  './semconv': {
    values: [
      'ATTR_ANALYTICS_ABORTED',
      'ATTR_ANALYTICS_AUTH_EVENT_TYPE',
      'ATTR_ANALYTICS_AUTH_METADATA',
      'ATTR_ANALYTICS_AUTH_SUCCESS',
      'ATTR_ANALYTICS_CLIENT_ADDRESS',
      'ATTR_ANALYTICS_COST_MODEL',
      'ATTR_ANALYTICS_COST_UNKNOWN_REASON',
      'ATTR_ANALYTICS_COST_USD',
      'ATTR_ANALYTICS_INCOMPLETE',
      'ATTR_ANALYTICS_NO_RESPONSE',
      'ATTR_ANALYTICS_PRICE_CHECKED_AT',
      'ATTR_ANALYTICS_PRICE_EFFECTIVE_FROM',
      'ATTR_ANALYTICS_PRICE_SOURCE',
      'ATTR_ANALYTICS_PRICE_TABLE_VERSION',
      'ATTR_ANALYTICS_RECORD',
      'ATTR_ANALYTICS_SAMPLE_WEIGHT',
      'ATTR_ANALYTICS_SLOW',
      'ATTR_ANALYTICS_USAGE_CACHE_WRITE_1H_TOKENS',
      'ATTR_ANALYTICS_USAGE_FREE',
      'ATTR_ANALYTICS_USAGE_INCOMPLETE',
      'ATTR_ANALYTICS_USAGE_RECORDS',
      'ATTR_ANALYTICS_USAGE_SERVICE_TIER',
      'ATTR_ANALYTICS_USAGE_UNKNOWN_REASON',
      'ATTR_ENDUSER_ID',
      'ATTR_ENDUSER_PSEUDO_ID',
      'ATTR_ERROR_MESSAGE',
      'ATTR_GEN_AI_CONVERSATION_ID',
      'ATTR_GEN_AI_OPERATION_NAME',
      'ATTR_GEN_AI_PROVIDER_NAME',
      'ATTR_GEN_AI_REQUEST_MODEL',
      'ATTR_GEN_AI_RESPONSE_ID',
      'ATTR_GEN_AI_RESPONSE_MODEL',
      'ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS',
      'ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS',
      'ATTR_GEN_AI_USAGE_INPUT_TOKENS',
      'ATTR_GEN_AI_USAGE_OUTPUT_TOKENS',
      'ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS',
      'ATTR_HTTP_REQUEST_BODY_SIZE',
      'ATTR_HTTP_REQUEST_HEADER_PREFIX',
      'ATTR_HTTP_RESPONSE_BODY_SIZE',
      'ATTR_SERVICE_PEER_NAME',
      'RECORD_API',
      'RECORD_AUTH',
      'RECORD_EXTERNAL',
      'TRACER_NAME',
    ],
    types: ['RecordType'],
  },
};

interface PackageJson {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const codeEntries = Object.entries(pkg.exports).flatMap(([entry, target]) =>
  typeof target === 'string' ? [] : [{ entry, ...target }],
);

/** The names each entry's published declarations export, read with the type checker. */
function declaredExports(): Map<string, string[]> {
  const files = codeEntries.map(({ types }) => path.join(ROOT, types));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const declared = new Map<string, string[]>();
  for (const { entry, types } of codeEntries) {
    const source = program.getSourceFile(path.join(ROOT, types));
    if (source === undefined)
      throw new Error(`${types} (the types of ${entry}) is missing: run npm run build`);
    const module = checker.getSymbolAtLocation(source);
    const names = module === undefined ? [] : checker.getExportsOfModule(module).map((symbol) => symbol.name);
    declared.set(entry, names.sort());
  }
  return declared;
}

/** `otel-pg-analytics/exporter` for `./exporter`: the specifier users write. */
function specifierOf(entry: string): string {
  return entry === '.' ? pkg.name : `${pkg.name}/${entry.slice(2)}`;
}

describe('the public API', () => {
  let declared: Map<string, string[]>;

  beforeAll(() => {
    declared = declaredExports();
  });

  it('has these entry points, each code entry with its types and its module', () => {
    expect(Object.keys(pkg.exports)).toEqual([
      '.',
      './register',
      './exporter',
      './admin',
      './semconv',
      './schema.sql',
      './package.json',
    ]);
    expect(codeEntries.map(({ entry }) => entry)).toEqual(Object.keys(PUBLIC_API));
    for (const { types, default: code } of codeEntries) {
      expect(types).toBe(code.replace(/\.js$/, '.d.ts'));
    }
  });

  // The register entry is not imported here: loading it starts the SDK in this process.
  it.each(Object.keys(PUBLIC_API).filter((entry) => entry !== './register'))(
    'exports exactly the pinned values from %s',
    async (entry) => {
      const module = (await import(specifierOf(entry))) as Record<string, unknown>;
      expect(Object.keys(module).sort()).toEqual(PUBLIC_API[entry]!.values);
    },
  );

  it.each(Object.keys(PUBLIC_API))('declares exactly the pinned values and types of %s', (entry) => {
    const { values, types } = PUBLIC_API[entry]!;
    expect(declared.get(entry)).toEqual([...values, ...types].sort());
  });

  it('exports no defaults', () => {
    const names = [...declared.values()].flat();
    expect(names.filter((name) => name.startsWith('DEFAULT_'))).toEqual([]);
  });
});

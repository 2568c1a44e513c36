import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SCHEMA_VERSION } from '../../admin/migrate.js';
import { ROOT, startApp } from '../helpers/app-process.js';
import { npm, packPackage } from '../helpers/npm.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);

/**
 * What users run: the tarball `npm pack` makes, installed into a fresh app, started with
 * `node --import otel-pg-analytics/register`, migrated with the bin, type-checked against
 * the published declarations.
 */
describe('the packed package, installed into a fresh app', () => {
  let dir: string;
  let db: TestDatabase;
  let files: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-packed-'));
    db = await createTestDatabase('packed', { schema: false });
    const packed = await packPackage(dir);
    files = packed.files;
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true }));
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', packed.tarball], dir);
  }, 240_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (db) await db.query(`drop owned by ${db.name}_w, ${db.name}_r`).catch(() => undefined);
    await db?.drop();
    if (db) {
      // Roles outlive databases (they belong to the cluster).
      const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
      await admin.connect();
      await admin.query(`drop role if exists ${db.name}_w`);
      await admin.query(`drop role if exists ${db.name}_r`);
      await admin.end();
    }
  });

  it('ships the built entry points, the schema, its migrations and the docs, and no tests or sources', () => {
    for (const file of [
      'package.json',
      'README.md',
      'schema.sql',
      'migrations/0002-pipeline-stats.sql',
      'migrations/0003-dashboard-views.sql',
      'grafana/dashboards/api.json',
      'grafana/provisioning/datasources/otel-pg-analytics.yaml',
      'grafana/provisioning/alerting/otel-pg-analytics.yaml',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/register.js',
      'dist/exporter/index.js',
      'dist/exporter/index.d.ts',
      'dist/admin/index.js',
      'dist/admin/index.d.ts',
      'dist/src/semconv.js',
      'dist/src/semconv.d.ts',
      'dist/cli/otel-pg-analytics.js',
      'dist/src/pricing/model-prices.json',
    ]) {
      expect(files).toContain(file);
    }
    expect(
      files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('examples/')),
    ).toEqual([]);
  });

  it('migrates with the bin, roles included, then records an ESM and a CommonJS app as the writer', async () => {
    const bin = path.join(dir, 'node_modules/.bin/otel-pg-analytics');
    expect(readdirSync(path.join(dir, 'node_modules/.bin'))).toContain('otel-pg-analytics');
    const password = 'packed-writer-pw';
    const { stdout } = await run(
      process.execPath,
      [
        bin,
        'migrate',
        '--roles',
        '--database-url',
        db.url,
        '--writer-role',
        `${db.name}_w`,
        '--reader-role',
        `${db.name}_r`,
      ],
      { env: { ...process.env, OTEL_ANALYTICS_WRITER_PASSWORD: password } },
    );
    expect(stdout).toContain(`schema version ${SCHEMA_VERSION} (was 0)`);
    expect(stdout).toContain(`writer (INSERT only) ${db.name}_w: created (LOGIN, password set)`);
    const writerUrl = new URL(db.url);
    writerUrl.username = `${db.name}_w`;
    writerUrl.password = password;

    writeFileSync(
      path.join(dir, 'app.mjs'),
      `import http from 'node:http';
import { recordAuthEvent } from 'otel-pg-analytics';
const server = http.createServer((req, res) => { recordAuthEvent({ type: 'login', userId: 'esm-user' }); res.end('esm'); });
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`,
    );
    writeFileSync(
      path.join(dir, 'app.cjs'),
      `const http = require('node:http');
const { setUser } = require('otel-pg-analytics');
const server = http.createServer((req, res) => { setUser('cjs-user'); res.end('cjs'); });
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`,
    );
    for (const script of ['app.mjs', 'app.cjs']) {
      const app = await startApp(path.join(dir, script), {
        cwd: dir,
        env: { OTEL_ANALYTICS_DATABASE_URL: writerUrl.toString() },
      });
      expect(await (await fetch(`${app.url}/hello`)).text()).toBe(script === 'app.mjs' ? 'esm' : 'cjs');
      expect(await app.stop()).toEqual({ code: null, signal: 'SIGTERM' });
      expect(app.stderr()).toBe('');
    }
    expect(await db.query('select path, user_id from api_access_log order by time')).toEqual([
      { path: '/hello', user_id: 'esm-user' },
      { path: '/hello', user_id: 'cjs-user' },
    ]);
    expect(await db.query('select event_type, user_id from authentication_log')).toEqual([
      { event_type: 'login', user_id: 'esm-user' },
    ]);
  });

  it('type-checks against the published declarations of every entry point', async () => {
    writeFileSync(
      path.join(dir, 'check.ts'),
      `import { AnalyticsSpanProcessor, recordAuthEvent, resolveConfig, setUser, shutdown, type AnalyticsConfig } from 'otel-pg-analytics';
import { PostgresSpanExporter, type AnalyticsDatabase } from 'otel-pg-analytics/exporter';
import { doctor, migrate } from 'otel-pg-analytics/admin';
import { ATTR_ENDUSER_ID } from 'otel-pg-analytics/semconv';
const options: AnalyticsConfig = { sampleRate: 0.5, excludedPaths: ['/health'] };
const endpoint: AnalyticsDatabase['api_access_log']['endpoint'] = '/users/:id';
const exporter = new PostgresSpanExporter({ connectionString: 'postgres://localhost/db' });
const processor = new AnalyticsSpanProcessor({ ...options, spanProcessor: { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} }, exporter });
recordAuthEvent({ type: 'login', userId: 1 });
setUser('u');
void [processor, resolveConfig(options), shutdown(), migrate, doctor, exporter, endpoint, ATTR_ENDUSER_ID];
`,
    );
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')]).catch(
      (error: { stdout: string }) => error,
    );
    expect(result.stdout).toBe('');
  });
});

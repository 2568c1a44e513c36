import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp } from '../helpers/app-process.js';
import { npm, packPackage } from '../helpers/npm.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Where each package sits in a node_modules tree, nested copies included: name → folders. */
function installedCopies(nodeModules: string, copies = new Map<string, string[]>()): Map<string, string[]> {
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin') continue;
    const folders = entry.name.startsWith('@')
      ? readdirSync(path.join(nodeModules, entry.name)).map((name) =>
          path.join(nodeModules, entry.name, name),
        )
      : [path.join(nodeModules, entry.name)];
    for (const folder of folders) {
      const manifest = path.join(folder, 'package.json');
      if (!existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
      copies.set(name, [...(copies.get(name) ?? []), folder]);
      const nested = path.join(folder, 'node_modules');
      if (existsSync(nested)) installedCopies(nested, copies);
    }
  }
  return copies;
}

/**
 * An app that already uses OpenTelemetry adds this package: npm must share the app's copy of
 * each OpenTelemetry package (a second `@opentelemetry/api` or SDK would mean two globals, two
 * context managers and twice the code loaded), and the app's own NodeSDK composes ours.
 */
describe('installed into an app that already has the OpenTelemetry SDK', () => {
  let dir: string;
  let db: TestDatabase;
  let before: Map<string, string[]>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-shared-deps-'));
    db = await createTestDatabase('shared_deps');
    // The app's own choice: the newest of each line, installed before it adds us.
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({
        name: 'app-with-otel',
        private: true,
        dependencies: { '@opentelemetry/api': '^1.10.0', '@opentelemetry/sdk-node': '^0.301.0' },
      }),
    );
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    before = installedCopies(path.join(dir, 'node_modules'));
    const { tarball } = await packPackage(dir);
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], dir);
  }, 240_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it("uses the app's own copy of every package both depend on, and npm finds the tree valid", async () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    const shared = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((name) =>
      before.has(name),
    );
    expect(shared).toEqual(
      expect.arrayContaining(['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/sdk-node']),
    );
    const ours = path.join(dir, 'node_modules/otel-pg-analytics');
    for (const name of shared) {
      expect(before.get(name), `the app has one ${name}`).toHaveLength(1);
      // Nothing of that name under our own folder: Node resolves ours to the app's copy.
      // (The contrib instrumentations we bring nest their own `@opentelemetry/instrumentation`:
      // their releases trail the SDK's line by one, ^0.300.0 against the SDK's exact 0.301.0.)
      expect(existsSync(path.join(ours, 'node_modules', name)), `a copy of ${name} of our own`).toBe(false);
    }
    // `npm ls` exits non-zero on a missing, invalid or unmet peer dependency.
    const { stdout } = await npm(['ls', '--all', '--json'], dir);
    expect(JSON.parse(stdout)).not.toHaveProperty('problems');
  });

  it("records requests through the app's own NodeSDK composed with our processor and exporter", async () => {
    for (const fixture of ['composed-sdk.mjs', 'serve-forever.mjs']) {
      copyFileSync(path.join(ROOT, 'test/fixtures', fixture), path.join(dir, fixture));
    }
    const app = await startApp(path.join(dir, 'composed-sdk.mjs'), {
      cwd: dir,
      register: false,
      env: { OTEL_ANALYTICS_DATABASE_URL: db.url },
    });
    expect(await (await fetch(`${app.url}/orders`)).text()).toBe('ok /orders');
    expect(await app.stop()).toEqual({ code: 0, signal: null });
    expect(app.stderr()).toBe('');
    expect(await db.query('select method, path, status_code from api_access_log')).toEqual([
      { method: 'GET', path: '/orders', status_code: 200 },
    ]);
  });
});

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/app-process.js';

/**
 * The README's "Works with" table is a promise: every package and version it names is the one
 * this suite installs and runs, and every row names the compat test that proves it.
 */
const START = '<!-- works-with:start -->';
const END = '<!-- works-with:end -->';

interface TableRow {
  stack: string;
  packages: Array<{ name: string; version: string }>;
  testFile: string;
}

function readTable(): TableRow[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${START} … ${END} section`);
  const lines = readme
    .slice(start + START.length, end)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2); // header and separator
  return lines.map((line) => {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    const packages = [...cells[1]!.matchAll(/`(@?[^`@\s]+)@(\d[^`\s]*)`/g)].map((m) => ({
      name: m[1]!,
      version: m[2]!,
    }));
    const file = /`(test\/compat\/[^`]+\.test\.ts)`/.exec(cells.at(-1) ?? '');
    return { stack: cells[0]!, packages, testFile: file?.[1] ?? '' };
  });
}

/** Every installed version of `name`: the root's and each compat stack's own. */
function installedVersions(name: string): string[] {
  const stacks = path.join(ROOT, 'test/compat/stacks');
  const roots = [ROOT, ...readdirSync(stacks).map((stack) => path.join(stacks, stack))];
  return roots.flatMap((root) => {
    const manifest = path.join(root, 'node_modules', name, 'package.json');
    return existsSync(manifest)
      ? [(JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version]
      : [];
  });
}

describe('the README’s "Works with" table', () => {
  const rows = readTable();

  it('lists stacks, each with at least one package version and a test', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      expect(row.packages, row.stack).not.toEqual([]);
      expect(row.testFile, row.stack).not.toBe('');
    }
  });

  it.each(rows.map((row) => [row.stack, row] as const))('%s: the versions are the ones tested', (_, row) => {
    for (const { name, version } of row.packages) {
      expect(installedVersions(name), `${row.stack}: ${name}`).toContain(version);
    }
  });

  it.each(rows.map((row) => [row.stack, row] as const))('%s: its test exists and uses it', (_, row) => {
    const test = path.join(ROOT, row.testFile);
    expect(existsSync(test), row.testFile).toBe(true);
    const sources = [readFileSync(test, 'utf8'), ...appSources()].join('\n');
    for (const { name } of row.packages) expect(sources, `${row.testFile} uses ${name}`).toContain(name);
  });
});

/** The apps and fixtures of the compat suite, where the packages are imported. */
function appSources(): string[] {
  const dirs = ['test/compat/apps', 'test/compat/support', 'test/compat/stacks'];
  const out: string[] = [];
  for (const dir of dirs) {
    const full = path.join(ROOT, dir);
    if (!existsSync(full)) continue;
    for (const entry of readdirSync(full, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.parentPath.includes('node_modules')) continue;
      if (/\.(mjs|cjs|js|ts|json)$/.test(entry.name)) {
        out.push(readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
      }
    }
  }
  return out;
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/app-process.js';

/**
 * What may import what (docs/architecture.md): the data flow runs one way, from `src/` (the
 * instrumentation side) through the Postgres side's rooms; only the composition roots (the
 * register entry, the command) reach across. A new edge is a design decision: add it here and
 * to the architecture page together.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  src: ['src'],
  database: ['src', 'database'],
  exporter: ['src', 'database', 'exporter'],
  admin: ['src', 'database', 'admin'],
  // doctor checks the schema and roles with migrate's knowledge.
  doctor: ['src', 'database', 'admin', 'doctor'],
  report: ['src', 'database', 'report'],
  ingest: ['src', 'database', 'ingest'],
  cli: ['src', 'database', 'exporter', 'admin', 'doctor', 'report', 'ingest', 'cli'],
  // Shared by tests, benchmarks and examples, so it imports none of them.
  dev: ['src', 'dev', 'dist'],
};

/** The edges that cross a room's bounds on purpose: the composition roots and entry points. */
const EXCEPTIONS: ReadonlyArray<readonly [file: string, room: string]> = [
  // The register entry loads the exporter lazily: the one place src/ reaches the database layer.
  ['src/register.ts', 'exporter'],
  // The ./admin entry point gathers the programmatic commands, doctor and report included.
  ['admin/index.ts', 'doctor'],
  ['admin/index.ts', 'report'],
  // Only doctor's spool check reads the spool, through the spool's own inspector.
  ['doctor/spool-check.ts', 'exporter'],
];

const SPECIFIER = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function roomOf(file: string): string {
  return file.split('/')[0]!;
}

/** Every relative import of a tracked source file, as `[file, the room it reaches]`. */
function crossRoomImports(): Array<[file: string, room: string]> {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.mjs', '*.cjs', '*.js'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file.includes('/') && roomOf(file) in ALLOWED);
  const edges: Array<[string, string]> = [];
  for (const file of files) {
    for (const [, specifier] of readFileSync(path.join(ROOT, file), 'utf8').matchAll(SPECIFIER)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier!));
      const room = roomOf(target);
      if (room !== roomOf(file)) edges.push([file, room]);
    }
  }
  return edges;
}

describe('imports between rooms', () => {
  const edges = crossRoomImports();

  it('finds the cross-room imports it checks', () => {
    expect(edges.length).toBeGreaterThan(50);
  });

  it('follow the data flow, except at the composition roots and entry points', () => {
    const forbidden = edges.filter(([file, room]) => {
      if (!ALLOWED[roomOf(file)]!.includes(room)) {
        return !EXCEPTIONS.some(([f, r]) => f === file && r === room);
      }
      return false;
    });
    expect(forbidden.map(([file, room]) => `${file} → ${room}/`)).toEqual([]);
  });

  it('lists only exceptions that are still needed', () => {
    const unused = EXCEPTIONS.filter(([f, r]) => !edges.some(([file, room]) => file === f && room === r));
    expect(unused).toEqual([]);
  });
});

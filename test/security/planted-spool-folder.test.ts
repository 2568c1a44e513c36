import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuthenticationLogRow } from '../../database/analytics-database.js';
import { doctor } from '../../doctor/doctor.js';
import { PostgresSpanExporter } from '../../exporter/postgres-span-exporter.js';
import { spoolPathProblem } from '../../exporter/spool/spool-path-problem.js';
import { encodeRecord } from '../../exporter/spool/spool-record.js';
import { spoolTarget } from '../../exporter/spool/spool-target.js';
import { Spool } from '../../exporter/spool/spool.js';
import { resolveConfig } from '../../src/config.js';
import { readEnv } from '../../src/env.js';
import { defaultSpoolDir } from '../../src/support/default-spool-dir.js';
import { captureDiagWarnings } from '../helpers/diag-warnings.js';
import { mountNamespaceLauncher } from '../helpers/mount-namespace.js';
import { apiSpan } from '../../dev/spans.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/*
 * The attack: a local user makes the spool directory (or a folder in it) before the app does,
 * and leaves a segment with forged rows and a lock naming a dead process, the app's host and
 * the app's database. The app, adopting what a crashed run left, would write those rows to
 * PostgreSQL as its own role. Here the forged row is a successful `admin` login from 1.2.3.4.
 *
 * The other user: as root (as in CI) planted paths are chowned to `nobody`, a real foreign
 * owner. A process that is not root cannot make a file another user's, and neither can an
 * attacker inside a directory only the app's user can write: there the foreign-owner cases
 * apply the same check to the planted path's real lstat, as a user who does not own it sees
 * it. Group- and world-writable paths and symbolic links need no root and run as they are.
 */

const ROOT = process.getuid!() === 0;
const NOBODY = 65534;
/** The folder the spool makes for itself in a directory other users can write. */
const PRIVATE_NAME = `otel-pg-analytics-${process.geteuid!()}`;

let db: TestDatabase;
let proxy: TcpProxy;
let base: string;
let warnings: string[];
let stopCapture: () => void;

beforeAll(async () => {
  db = await createTestDatabase('planted_spool', { writer: true });
  const url = new URL(db.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});

afterAll(async () => {
  await proxy?.close();
  await db.drop();
});

beforeEach(async () => {
  ({ warnings, stop: stopCapture } = captureDiagWarnings());
  base = mkdtempSync(path.join(os.tmpdir(), 'pga-planted-'));
  proxy.refuse(false);
  await db.query('truncate authentication_log, api_access_log, analytics_pipeline_stats');
});

afterEach(() => {
  stopCapture();
  rmSync(base, { recursive: true, force: true });
});

const FORGED: AuthenticationLogRow = {
  time: '2026-11-26T03:14:15.926535Z',
  trace_id: null,
  span_id: 'f0f0f0f0f0f0f0f0',
  service_name: 'shop',
  metadata: null,
  user_id: 'admin',
  event_type: 'login',
  ip_address: '1.2.3.4',
  user_agent: null,
  success: true,
  error_message: null,
};

/** A pid no process has any more. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

/** Plants, in `dir`, a folder as a crashed run of the app would leave it, with the forged row. */
function plantFolder(
  dir: string,
  name = `${os.hostname()}-${deadPid()}-1-abcdef`,
  target = spoolTarget(db.writerUrl),
) {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const lock = path.join(folder, 'lock');
  writeFileSync(
    lock,
    JSON.stringify({
      pid: deadPid(),
      host: os.hostname(),
      target,
      startedAt: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  const segment = path.join(folder, '0000000001.seg');
  writeFileSync(segment, encodeRecord({ table: 'authentication_log', row: FORGED }), { mode: 0o600 });
  return { folder, lock, segment };
}

/** A directory for the spool, made as the app's user would make it (0700). */
function privateDir(name = 'spool'): string {
  const dir = path.join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** Starts the app's exporter on `spoolDir` (it adopts what it trusts) and shuts it down. */
async function runExporter(spoolDir: string): Promise<PostgresSpanExporter> {
  const exporter = new PostgresSpanExporter({
    connectionString: db.writerUrl,
    spoolDir,
    statsIntervalMillis: 0,
    shutdownTimeoutMillis: 5000,
  });
  // Shutdown replays what the spool holds while Postgres takes it.
  await exporter.shutdown();
  return exporter;
}

/** An exporter that reaches Postgres through the proxy (so an outage is `proxy.refuse(true)`). */
function outageExporter(spoolDir: string): PostgresSpanExporter {
  return new PostgresSpanExporter({
    connectionString: proxy.urlFor(db.writerUrl),
    spoolDir,
    statsIntervalMillis: 0,
    retryDeadlineMillis: 200,
    initialRetryDelayMillis: 20,
    connectionTimeoutMillis: 500,
    shutdownTimeoutMillis: 5000,
  });
}

/** The database digest of {@link outageExporter}'s rows: a planted lock names it to be adopted. */
const proxyTarget = () => spoolTarget(proxy.urlFor(db.writerUrl));

function exportSpans(exporter: PostgresSpanExporter, n: number): Promise<void> {
  const spans = Array.from({ length: n }, () => apiSpan());
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

async function apiRows(): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from api_access_log');
  return row!.n;
}

async function forgedRows(): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from authentication_log where user_id = 'admin' and ip_address = '1.2.3.4'`,
  );
  return row!.n;
}

/** The warnings that name `file`. */
const warningsAbout = (file: string) => warnings.filter((w) => w.includes(file));

describe('the spool', () => {
  it('replays a folder a crashed run of its own user left (the setting of every attack below)', async () => {
    const dir = privateDir();
    plantFolder(dir);
    const exporter = await runExporter(dir);
    expect(await forgedRows()).toBe(1);
    expect(exporter.getStats().replayedRows).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  describe('in a directory other users can write, spools in a private folder of its own, and reads nothing else there', () => {
    /** Exports `n` spans while Postgres is away, so the spool takes them; then shuts down. */
    async function spoolThroughOutage(spoolDir: string, n: number): Promise<PostgresSpanExporter> {
      proxy.refuse(true);
      const exporter = outageExporter(spoolDir);
      await exportSpans(exporter, n);
      await exporter.forceFlush();
      await exporter.shutdown();
      proxy.refuse(false);
      return exporter;
    }

    /** A run with Postgres back: it replays what the spool holds, at shutdown at the latest. */
    async function replay(spoolDir: string): Promise<PostgresSpanExporter> {
      const exporter = outageExporter(spoolDir);
      await exporter.shutdown();
      return exporter;
    }

    async function expectPrivateSpool(dir: string): Promise<void> {
      const planted = plantFolder(dir, undefined, proxyTarget()).folder;
      const outage = await spoolThroughOutage(dir, 3);
      expect(outage.getStats()).toEqual(expect.objectContaining({ spooledRows: 3, droppedRows: {} }));
      const own = path.join(dir, PRIVATE_NAME);
      // Made by this process, its user's alone; the rows wait there, not beside the planted folder.
      expect(lstatSync(own)).toMatchObject({ uid: process.geteuid!() });
      expect(lstatSync(own).mode & 0o777).toBe(0o700);
      expect(readdirSync(own, { recursive: true }).some((f) => String(f).endsWith('.seg'))).toBe(true);
      const replayed = await replay(dir);
      expect(replayed.getStats()).toEqual(expect.objectContaining({ replayedRows: 3, droppedRows: {} }));
      expect(await apiRows()).toBe(3);
      expect(await forgedRows()).toBe(0);
      expect(existsSync(planted)).toBe(true);
      expect(warnings.filter((w) => /cannot be used|not replaying/.test(w))).toEqual([]);
    }

    it.each([
      ['world-writable, as an emptyDir volume (0777)', 0o777],
      ['group-writable with setgid, as a volume with an fsGroup (2775)', 0o2775],
      ['group-writable (0770)', 0o770],
      ['world-writable with the sticky bit, as /tmp (1777)', 0o1777],
    ])('%s: rows survive an outage there and are replayed', async (_label, mode) => {
      const dir = privateDir();
      chmodSync(dir, mode);
      await expectPrivateSpool(dir);
    });

    it(
      ROOT
        ? "another user's (nobody, 0755): rows survive an outage there and are replayed"
        : "another user's (not root: a directory of its own is the nearest), rows survive an outage",
      async () => {
        const dir = privateDir();
        chmodSync(dir, 0o755);
        if (ROOT) lchownSync(dir, NOBODY, NOBODY);
        await expectPrivateSpool(dir);
      },
    );

    it("keeps using that folder once the directory is its user's alone: what waits there is replayed", async () => {
      const dir = privateDir();
      chmodSync(dir, 0o777);
      await spoolThroughOutage(dir, 3);
      chmodSync(dir, 0o700);
      expect((await replay(dir)).getStats()).toEqual(
        expect.objectContaining({ replayedRows: 3, droppedRows: {} }),
      );
      expect(await apiRows()).toBe(3);
      expect(warnings.filter((w) => /cannot be used|not replaying/.test(w))).toEqual([]);
    });

    it('reached through a symbolic link of its own', async () => {
      const target = privateDir('elsewhere');
      chmodSync(target, 0o777);
      const link = path.join(base, 'spool');
      symlinkSync(target, link);
      await expectPrivateSpool(link);
      expect(existsSync(path.join(target, PRIVATE_NAME))).toBe(true);
    });

    describe("refuses that folder when another user made it first: the spool is off (one warning), an outage's rows are counted as dropped, and no planted row is read", () => {
      async function expectRefusedFolder(dir: string, reason: RegExp): Promise<void> {
        const own = path.join(dir, PRIVATE_NAME);
        proxy.refuse(true);
        const exporter = outageExporter(dir);
        await exportSpans(exporter, 3);
        await exporter.forceFlush();
        expect(exporter.getStats()).toMatchObject({
          spooledRows: 0,
          droppedRows: { database_unavailable: 3 },
        });
        await exporter.shutdown();
        const said = warningsAbout(own);
        expect(said).toHaveLength(1);
        expect(said[0]).toMatch(reason);
        expect(said[0]).toContain('rows Postgres cannot take will be dropped');
        expect(said[0]).toContain(`remove ${own}`);
        proxy.refuse(false);
        // Postgres back: still nothing read from there.
        await replay(dir);
        expect(await forgedRows()).toBe(0);
        expect(await apiRows()).toBe(0);
      }

      it(
        ROOT
          ? 'owned by another user (nobody)'
          : 'owned by another user (its lstat, as a user who does not own it)',
        async () => {
          const dir = privateDir();
          chmodSync(dir, 0o777);
          const own = path.join(dir, PRIVATE_NAME);
          mkdirSync(own, { mode: 0o700 });
          const planted = plantFolder(own, undefined, proxyTarget());
          if (!ROOT) {
            await expectRefusedAs(own, 'directory', /owned by uid \d+, not by this process's user/);
            return;
          }
          for (const file of [own, planted.folder, planted.lock, planted.segment])
            lchownSync(file, NOBODY, NOBODY);
          await expectRefusedFolder(dir, new RegExp(`is owned by uid ${NOBODY}, not by this process's user`));
        },
      );

      it('a symbolic link, even to a directory of its own', async () => {
        const dir = privateDir();
        chmodSync(dir, 0o777);
        const mine = privateDir('mine');
        plantFolder(mine, undefined, proxyTarget());
        symlinkSync(mine, path.join(dir, PRIVATE_NAME));
        await expectRefusedFolder(dir, /is a symbolic link/);
      });

      it('writable by its group', async () => {
        const dir = privateDir();
        chmodSync(dir, 0o777);
        const own = path.join(dir, PRIVATE_NAME);
        mkdirSync(own);
        chmodSync(own, 0o770);
        plantFolder(own, undefined, proxyTarget());
        await expectRefusedFolder(dir, /is writable by its group \(mode 0770\)/);
      });
    });
  });

  describe('refuses a spool directory it cannot trust to be a directory of its choice', () => {
    it(
      ROOT
        ? 'a symbolic link another user (nobody) planted, even to a directory of its own'
        : 'a symbolic link another user planted (its lstat, as a user who does not own it)',
      async () => {
        const target = privateDir('mine');
        plantFolder(target);
        const link = path.join(base, 'spool');
        symlinkSync(target, link);
        if (!ROOT) {
          await expectRefusedAs(link, 'directory', /symbolic link owned by uid \d+/, { link: 'owned' });
          return;
        }
        lchownSync(link, NOBODY, NOBODY);
        await runExporter(link);
        expect(await forgedRows()).toBe(0);
        expect(warningsAbout(link)).toHaveLength(1);
        expect(warningsAbout(link)[0]).toContain(`symbolic link owned by uid ${NOBODY}`);
      },
    );
  });

  describe('in a directory of its own, refuses with one warning, and never reads, a planted folder', () => {
    async function expectRefused(dir: string, refused: string, reason: RegExp): Promise<void> {
      const exporter = await runExporter(dir);
      expect(await forgedRows()).toBe(0);
      expect(exporter.getStats().replayedRows).toBe(0);
      const said = warningsAbout(refused);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(reason);
      expect(said[0]).toContain('never read');
      // Left where it was, for the operator to look at; the app's own folder is gone.
      expect(existsSync(refused)).toBe(true);
    }

    it.each([
      ['group-writable', 0o770, /writable by its group \(mode 0770\)/],
      ['world-writable', 0o777, /writable by other users \(mode 0777\)/],
    ])('that is %s', async (_label, mode, reason) => {
      const dir = privateDir();
      const { folder } = plantFolder(dir);
      chmodSync(folder, mode);
      await expectRefused(dir, folder, reason);
    });

    it.each(['lock', 'segment'] as const)('whose %s is world-writable', async (which) => {
      const dir = privateDir();
      const planted = plantFolder(dir);
      chmodSync(planted[which], 0o666);
      await expectRefused(dir, planted[which], /writable by other users \(mode 0666\)/);
    });

    it.each(['lock', 'segment'] as const)('whose %s is a symbolic link', async (which) => {
      const dir = privateDir();
      const planted = plantFolder(dir);
      // What it points at is sound (ours, private): only the link is wrong.
      const real = path.join(base, `real-${which}`);
      writeFileSync(real, readFileSync(planted[which]), { mode: 0o600 });
      rmSync(planted[which]);
      symlinkSync(real, planted[which]);
      await expectRefused(dir, planted[which], /is a symbolic link/);
    });

    it('that is a symbolic link to a folder elsewhere', async () => {
      const dir = privateDir();
      const elsewhere = privateDir('elsewhere');
      const { folder } = plantFolder(elsewhere);
      const link = path.join(dir, `${os.hostname()}-${deadPid()}-2-abcdef`);
      symlinkSync(folder, link);
      await expectRefused(dir, link, /is a symbolic link/);
    });

    it('that holds an unsafe folder it had adopted', async () => {
      const dir = privateDir();
      const { folder } = plantFolder(dir);
      const inner = plantFolder(folder, 'adopted-inner');
      chmodSync(inner.segment, 0o646);
      await expectRefused(dir, inner.segment, /writable by other users/);
    });

    it.each(['folder', 'lock', 'segment'] as const)(
      ROOT
        ? 'whose %s another user (nobody) owns'
        : 'whose %s another user owns (its lstat, as a user who does not own it)',
      async (which) => {
        const dir = privateDir();
        const planted = plantFolder(dir);
        if (!ROOT) {
          await expectRefusedAs(planted[which], which === 'folder' ? 'directory' : 'file', /owned by uid/);
          return;
        }
        lchownSync(planted[which], NOBODY, NOBODY);
        await expectRefused(
          dir,
          planted[which],
          new RegExp(`owned by uid ${NOBODY}, not by this process's user`),
        );
      },
    );

    it('that was sound when adopted and made writable by others before its replay (its rows counted)', async () => {
      const dir = privateDir();
      plantFolder(dir);
      const refusedRows: number[] = [];
      const spool = await Spool.open({
        directory: dir,
        target: spoolTarget(db.writerUrl),
        onRefusedRows: (rows) => refusedRows.push(rows),
      });
      const [adopted] = readdirSync(spool.folder, { recursive: true })
        .map((name) => path.join(spool.folder, String(name)))
        .filter((file) => file.endsWith('.seg'));
      // The check is made on the file opened for reading, not on a name looked up earlier.
      chmodSync(adopted!, 0o666);
      expect(await spool.nextSegment()).toBeUndefined();
      expect(spool.bytes).toBe(0);
      expect(warningsAbout(adopted!)).toHaveLength(1);
      expect(warningsAbout(adopted!)[0]).toContain('is writable by other users (mode 0666)');
      expect(refusedRows).toEqual([1]);
      await spool.close();
    });

    it('that it wrote itself and that was made writable by others before its replay: the rows are counted as dropped (spool_refused), in getStats and analytics_pipeline_stats', async () => {
      const dir = privateDir();
      proxy.refuse(true);
      const exporter = outageExporter(dir);
      await exportSpans(exporter, 3);
      await exporter.forceFlush();
      expect(exporter.getStats()).toEqual(expect.objectContaining({ spooledRows: 3, droppedRows: {} }));
      const [segment] = readdirSync(dir, { recursive: true })
        .map((name) => path.join(dir, String(name)))
        .filter((file) => file.endsWith('.seg'));
      chmodSync(segment!, 0o666);
      proxy.refuse(false);
      // Shutdown replays what the spool holds, now that Postgres is back.
      await exporter.shutdown();
      expect(exporter.getStats()).toMatchObject({ replayedRows: 0, droppedRows: { spool_refused: 3 } });
      expect(await apiRows()).toBe(0);
      const [final] = await db.query<{ dropped_rows: Record<string, number> }>(
        'select dropped_rows from analytics_pipeline_stats where final',
      );
      expect(final!.dropped_rows).toEqual({ spool_refused: 3 });
      expect(warningsAbout(segment!)).toHaveLength(1);
      expect(
        warnings.filter((w) => w.includes('spool_refused') || /3 row\(s\) dropped/.test(w)),
      ).toHaveLength(1);
    });

    it('warns once per process about a refused folder, however often the spool is opened', async () => {
      const dir = privateDir();
      const { folder } = plantFolder(dir);
      chmodSync(folder, 0o777);
      for (let i = 0; i < 3; i++)
        await (await Spool.open({ directory: dir, target: spoolTarget(db.writerUrl) })).close();
      expect(warningsAbout(folder)).toHaveLength(1);
      expect(warningsAbout(folder)[0]).toContain('remove it');
    });
  });

  it('is reported by doctor where it spools, when its folder is refused, and when it holds refused folders', async () => {
    const spoolCheck = async (spoolDir: string) =>
      (await doctor(db.url, { spoolDir })).find((c) => c.check === 'spool');
    const open = privateDir('open');
    plantFolder(open);
    chmodSync(open, 0o777);
    expect(await spoolCheck(open)).toMatchObject({
      status: 'ok',
      message: `${open}: nothing spooled (other users can write it, so the app spools in a folder of its own there, not made yet)`,
    });
    const own = path.join(open, PRIVATE_NAME);
    plantFolder(own);
    expect(await spoolCheck(open)).toMatchObject({
      status: 'warn',
      message: expect.stringContaining(
        `${own} (the app's own folder of ${open}, which other users can write): 1 segment file`,
      ),
    });
    chmodSync(own, 0o770);
    expect(await spoolCheck(open)).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`${own} is writable by its group (mode 0770): the app refuses it`),
      fix: expect.stringContaining(`which another user made first: remove it if it is not the app user's`),
    });

    const mine = privateDir('mine');
    const planted = plantFolder(mine);
    chmodSync(planted.segment, 0o666);
    const check = (await doctor(db.url, { spoolDir: mine })).find((c) => c.check === 'spool');
    expect(check).toMatchObject({ status: 'warn', message: expect.stringContaining(planted.segment) });
    expect(check!.message).toContain(
      `${mine}: nothing pending (0 instance folders); 1 folder refused, never replayed`,
    );
    expect(check!.message).toContain('is writable by other users (mode 0666)');
  });
});

/** A module of the build (`npm run build`), for a child process to import. */
function distModule(file: string): string {
  return path.join(import.meta.dirname, '..', '..', 'dist', file);
}

/** Not root: applies the check to `file`'s real lstat as a user who does not own it. */
async function expectRefusedAs(
  file: string,
  kind: 'directory' | 'file',
  reason: RegExp,
  options: { link?: 'owned' } = {},
): Promise<void> {
  const stats = lstatSync(file);
  expect(spoolPathProblem(stats, kind, stats.uid + 1, options)).toMatch(reason);
  expect(spoolPathProblem(stats, kind, stats.uid, options)).toBeUndefined();
}

describe("the spool's user", () => {
  it(
    ROOT
      ? 'is the effective user, whose files the process makes: with seteuid(nobody) it spools in a directory of nobody'
      : 'is the effective user, whose files the process makes',
    () => {
      const dir = path.join(base, 'spool');
      mkdirSync(dir, { mode: 0o700 });
      if (ROOT) {
        chmodSync(base, 0o711);
        lchownSync(dir, NOBODY, NOBODY);
      }
      // Real uid 0, effective uid nobody: the spool's files are nobody's, and trusted as such.
      const script = `
        ${ROOT ? `process.setegid(${NOBODY}); process.seteuid(${NOBODY});` : ''}
        const { Spool } = await import(${JSON.stringify(distModule('exporter/spool/spool.js'))});
        const spool = await Spool.open({ directory: ${JSON.stringify(dir)}, target: 'db' });
        const result = await spool.append([{ table: 'authentication_log', row: {} }]);
        console.log(JSON.stringify({ uid: process.getuid(), euid: process.geteuid(), folder: spool.folder, result }));
        await spool.close();
      `;
      const out = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
      ) as { uid: number; euid: number; folder: string; result: { written: number } };
      expect(out).toMatchObject({ uid: process.getuid!(), euid: ROOT ? NOBODY : process.getuid!() });
      expect(path.dirname(out.folder)).toBe(dir);
      expect(out.result.written).toBe(1);
      expect(lstatSync(out.folder).uid).toBe(out.euid);
    },
  );
});

describe('spoolPathProblem: the check, as a function of (lstat, uid)', () => {
  const stats = (type: 'directory' | 'file' | 'link', uid: number, mode: number) => ({
    uid,
    mode,
    isDirectory: () => type === 'directory',
    isFile: () => type === 'file',
    isSymbolicLink: () => type === 'link',
  });

  it('trusts what the user owns and no one else can write', () => {
    expect(spoolPathProblem(stats('directory', 1000, 0o40700), 'directory', 1000)).toBeUndefined();
    expect(spoolPathProblem(stats('directory', 1000, 0o40755), 'directory', 1000)).toBeUndefined();
    expect(spoolPathProblem(stats('file', 1000, 0o100644), 'file', 1000)).toBeUndefined();
  });

  it("refuses another user's path, whatever its mode", () => {
    expect(spoolPathProblem(stats('directory', 1001, 0o40700), 'directory', 1000)).toBe(
      "is owned by uid 1001, not by this process's user (uid 1000)",
    );
    expect(spoolPathProblem(stats('file', 0, 0o100600), 'file', 1000)).toBe(
      "is owned by uid 0, not by this process's user (uid 1000)",
    );
    expect(spoolPathProblem(stats('file', 1000, 0o100600), 'file', 0)).toMatch(/owned by uid 1000/);
  });

  it('refuses a path its group or other users can write', () => {
    expect(spoolPathProblem(stats('directory', 7, 0o40770), 'directory', 7)).toBe(
      'is writable by its group (mode 0770)',
    );
    expect(spoolPathProblem(stats('directory', 7, 0o41777), 'directory', 7)).toBe(
      'is writable by other users (mode 01777)',
    );
    expect(spoolPathProblem(stats('file', 7, 0o100602), 'file', 7)).toBe(
      'is writable by other users (mode 0602)',
    );
  });

  it('refuses a symbolic link, or the wrong kind, where a directory or a file is expected', () => {
    expect(spoolPathProblem(stats('link', 7, 0o120777), 'directory', 7)).toBe(
      'is a symbolic link, not a directory',
    );
    expect(spoolPathProblem(stats('link', 7, 0o120777), 'file', 7)).toBe(
      'is a symbolic link, not a regular file',
    );
    expect(spoolPathProblem(stats('file', 7, 0o100600), 'directory', 7)).toBe('is not a directory');
    expect(spoolPathProblem(stats('directory', 7, 0o40700), 'file', 7)).toBe('is not a regular file');
  });

  it("accepts, for the spool directory itself, only the user's own symbolic link", () => {
    expect(spoolPathProblem(stats('link', 7, 0o120777), 'directory', 7, { link: 'owned' })).toBeUndefined();
    expect(spoolPathProblem(stats('link', 8, 0o120777), 'directory', 7, { link: 'owned' })).toBe(
      "is a symbolic link owned by uid 8, not by this process's user (uid 7)",
    );
  });

  it('checks only the kind where files have no POSIX owner (Windows)', () => {
    expect(spoolPathProblem(stats('directory', 0, 0o40777), 'directory', undefined)).toBeUndefined();
    expect(spoolPathProblem(stats('link', 0, 0o120777), 'file', undefined)).toBe(
      'is a symbolic link, not a regular file',
    );
  });
});

describe('the default spool directory', () => {
  const tmpFallback = path.join(os.tmpdir(), `otel-pg-analytics-${process.getuid!()}`);

  it("is this user's state directory, never a shared one", () => {
    expect(defaultSpoolDir({ XDG_STATE_HOME: '/srv/state', HOME: base })).toBe(
      '/srv/state/otel-pg-analytics',
    );
    expect(defaultSpoolDir({ XDG_STATE_HOME: 'relative/state', HOME: base })).toBe(
      path.join(base, '.local', 'state', 'otel-pg-analytics'),
    );
    expect(defaultSpoolDir({ HOME: base })).toBe(path.join(base, '.local', 'state', 'otel-pg-analytics'));
    expect(resolveConfig({}, { env: readEnv() }).spoolDir).not.toBe(
      path.join(os.tmpdir(), 'otel-pg-analytics'),
    );
  });

  it("falls back to a per-user folder of the tmpdir when the home cannot hold it (a container's)", () => {
    expect(defaultSpoolDir({ HOME: '/nonexistent' })).toBe(tmpFallback);
    const file = path.join(base, 'not-a-home');
    writeFileSync(file, '');
    expect(defaultSpoolDir({ HOME: file })).toBe(tmpFallback);
    const readOnly = path.join(base, 'read-only-home');
    mkdirSync(readOnly);
    if (!ROOT) {
      chmodSync(readOnly, 0o555);
      expect(defaultSpoolDir({ HOME: readOnly })).toBe(tmpFallback);
      return;
    }
    // Root writes through modes: a read-only filesystem is what stops it. It is mounted in a
    // mount namespace of the child's own, so it goes with the child whatever the test does.
    const script = `
      const { defaultSpoolDir } = await import(${JSON.stringify(distModule('src/support/default-spool-dir.js'))});
      console.log(defaultSpoolDir({ HOME: ${JSON.stringify(readOnly)} }));
    `;
    const said = execFileSync(
      mountNamespaceLauncher()[0]!,
      [
        ...mountNamespaceLauncher().slice(1),
        'sh',
        '-c',
        'mount -t tmpfs -o ro,size=64k tmpfs "$1" && shift && exec "$@"',
        'sh',
        readOnly,
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ],
      { encoding: 'utf8' },
    );
    expect(said.trim()).toBe(tmpFallback);
    // Nothing was mounted here.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(readOnly);
  });

  it("is made this user's alone, folders on the way included", async () => {
    const dir = defaultSpoolDir({ HOME: base });
    const spool = await Spool.open({ directory: dir, target: 'db' });
    for (const made of [path.join(base, '.local'), path.dirname(dir), dir, spool.folder]) {
      const stats = lstatSync(made);
      expect({ made, uid: stats.uid, mode: stats.mode & 0o777 }).toEqual({
        made,
        uid: process.getuid!(),
        mode: 0o700,
      });
    }
    await spool.close();
  });
});

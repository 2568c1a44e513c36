import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineStats } from '../../src/pipeline-stats.js';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { startLoad } from '../helpers/load.js';
import { mountNamespaceLauncher } from '../helpers/mount-namespace.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/*
 * A bad day: Postgres is away and the disk under the spool fills. Appends that fail part way
 * (a short write, then ENOSPC) leave whole records before the failure; those are spooled and
 * replayed once, and only the rows that did not reach the disk are counted as dropped.
 *
 * The full disk is a real one: a 192 KiB tmpfs mounted on the spool directory, in a mount
 * namespace of the app's own (`unshare --mount`; not as root, in a user namespace too, where
 * the app is root of its own), so the app sees ENOSPC from the kernel and nothing outside it
 * is mounted or left behind.
 */

const SPOOL_DISK_BYTES = 192 * 1024;

/** Starts load-app.mjs with a tmpfs of {@link SPOOL_DISK_BYTES} mounted on its spool directory. */
function startAppOnSmallDisk(env: Record<string, string>): Promise<AppProcess> {
  return startApp('test/fixtures/load-app.mjs', {
    env,
    launcher: [
      ...mountNamespaceLauncher(),
      'sh',
      '-c',
      `mount -t tmpfs -o size=${SPOOL_DISK_BYTES},mode=0700 tmpfs "$OTEL_ANALYTICS_SPOOL_DIR" && exec "$@"`,
      'sh',
    ],
  });
}

async function statsOf(app: AppProcess): Promise<PipelineStats> {
  const { stats } = (await (await fetch(`${app.url}/stats`)).json()) as { stats: PipelineStats };
  return stats;
}

describe('an app whose spool disk fills while Postgres is away', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('spool_full_disk');
    const url = new URL(db.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pga-full-disk-'));
  });

  afterAll(async () => {
    await proxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('counts as dropped exactly the rows that are not in the database afterwards, none both', async ({
    annotate,
  }) => {
    // What the test needs from the machine, first: without it the test fails, saying what is missing.
    mountNamespaceLauncher();
    // The mount point; the tmpfs mounted on it is the app's alone (0700, its user's).
    const spoolDir = path.join(dir, 'spool');
    mkdirSync(spoolDir);
    const config = path.join(dir, 'analytics.json');
    writeFileSync(config, JSON.stringify({ retryDeadlineMillis: 300, statsIntervalMillis: 0 }));
    proxy.refuse(true);
    const app = await startAppOnSmallDisk({
      OTEL_ANALYTICS_DATABASE_URL: proxy.urlFor(db.url),
      OTEL_ANALYTICS_CONFIG: config,
      OTEL_ANALYTICS_SPOOL_DIR: spoolDir,
      OTEL_ANALYTICS_EXCLUDED_PATHS: '/stats',
      OTEL_ANALYTICS_SHUTDOWN_TIMEOUT: '20000',
    });
    const load = startLoad(app.url, { concurrency: 4, pauseMillis: 1 });
    // Until the disk has been full for a while: several appends cut off part way.
    let full: PipelineStats;
    for (;;) {
      full = await statsOf(app);
      if ((full.droppedRows.spool_error ?? 0) >= 2000) break;
      await delay(100);
    }
    const result = await load.stop();
    expect(result.failed).toBe(0);

    proxy.refuse(false);
    // The probe finds Postgres back and the spool is replayed: wait for the disk to empty.
    for (;;) {
      const stats = await statsOf(app);
      if (stats.spoolBytes === 0 && stats.queuedRows === 0 && stats.replayedRows > 0) break;
      await delay(100);
    }
    expect(await app.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });

    const [final] = await db.query<{
      exported_rows: string;
      spooled_rows: string;
      replayed_rows: string;
      dropped_rows: Record<string, number>;
    }>(
      `select exported_rows, spooled_rows, replayed_rows, dropped_rows from analytics_pipeline_stats where final`,
    );
    const [stored] = await db.query<{ rows: number; distinct: number }>(
      `select count(*)::int as rows, count(distinct span_id)::int as distinct
         from (select span_id from api_access_log union all select span_id from authentication_log) r`,
    );
    const served = Object.values(result.served).reduce((a, b) => a + b, 0);
    // A row per request, and an auth row per login.
    const expected = served + (result.served['/login'] ?? 0);
    const dropped = Object.values(final!.dropped_rows).reduce((a, b) => a + b, 0);
    await annotate(
      `${served} requests, ${expected} rows: ${stored!.rows} in the database; counters: exported ` +
        `${final!.exported_rows}, spooled ${final!.spooled_rows}, replayed ${final!.replayed_rows}, ` +
        `dropped ${JSON.stringify(final!.dropped_rows)}`,
    );
    expect(stored!.rows).toBe(stored!.distinct);
    expect(final!.dropped_rows.spool_error).toBeGreaterThan(0);
    // What reached the spool was replayed once; what did not is what was counted as dropped.
    expect(Number(final!.replayed_rows)).toBe(Number(final!.spooled_rows));
    expect(Number(final!.exported_rows) + Number(final!.replayed_rows)).toBe(stored!.rows);
    expect(dropped).toBe(expected - stored!.rows);
    // The failed writes left no torn record to skip (or to blame on a crash).
    expect(final!.dropped_rows.spool_truncated).toBeUndefined();
    expect(app.stderr()).not.toContain('cut off by a crash');
  }, 120_000);
});

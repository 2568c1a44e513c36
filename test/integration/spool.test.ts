import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableRow } from '../../database/analytics-database.js';
import { Spool } from '../../exporter/spool/spool.js';
import { encodeRecord } from '../../exporter/spool/spool-record.js';

let dir: string;
const open: Spool[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pga-spool-'));
});

afterEach(async () => {
  for (const spool of open.splice(0)) await spool.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openSpool(options: Partial<Parameters<typeof Spool.open>[0]> = {}): Promise<Spool> {
  const spool = await Spool.open({ directory: dir, target: 'db-a', ...options });
  open.push(spool);
  return spool;
}

function entry(id: string): TableRow {
  return {
    table: 'api_access_log',
    row: {
      time: '2026-11-26T12:00:00.000001Z',
      trace_id: null,
      span_id: id,
      service_name: null,
      metadata: null,
      user_id: null,
      endpoint: '/x',
      path: '/x',
      method: 'GET',
      status_code: 200,
      response_time_ms: 1.5,
      ip_address: '127.0.0.1',
      peer_address: '127.0.0.1',
      user_agent: null,
      request_size: 0,
      response_size: 2,
      query_params: null,
      error_message: null,
      sample_weight: 1,
    },
  };
}

const ids = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Reads every segment out of a spool, removing each, as a replay does. */
async function drain(spool: Spool): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    const segment = await spool.nextSegment();
    if (!segment) return seen;
    seen.push(...segment.entries.map((e) => e.row.span_id));
    await segment.remove();
  }
}

/** A pid that no process has any more. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

/** Leaves a folder as a process that died would: a lock naming it, and one segment. */
function leaveOrphan(name: string, lock: object, spanIds: string[]): string {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'lock'), JSON.stringify(lock));
  writeFileSync(
    path.join(folder, '0000000001.seg'),
    Buffer.concat(spanIds.map((id) => encodeRecord(entry(id)))),
  );
  return folder;
}

describe('Spool', () => {
  it('gives rows back oldest first, across segments, and removes its folder once empty', async () => {
    const spool = await openSpool({ maxSegmentBytes: 2000 });
    for (const batch of [ids(10, 'a'), ids(10, 'b'), ids(10, 'c')]) {
      expect(await spool.append(batch.map(entry))).toEqual({ written: 10, refused: 0, failed: 0 });
    }
    expect(readdirSync(spool.folder).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(2);
    expect(spool.bytes).toBeGreaterThan(0);
    expect(await drain(spool)).toEqual([...ids(10, 'a'), ...ids(10, 'b'), ...ids(10, 'c')]);
    expect(spool.bytes).toBe(0);
    expect(spool.hasPending()).toBe(false);
    await spool.close();
    expect(existsSync(spool.folder)).toBe(false);
  });

  it('keeps its folders and files to the process user alone (rows hold personal data)', async () => {
    const nested = path.join(dir, 'made-by-the-spool');
    const spool = await openSpool({ directory: nested });
    await spool.append(ids(3).map(entry));
    const mode = (file: string) => statSync(file).mode & 0o777;
    expect(mode(nested)).toBe(0o700);
    expect(mode(spool.folder)).toBe(0o700);
    for (const file of readdirSync(spool.folder))
      expect({ file, mode: mode(path.join(spool.folder, file)) }).toEqual({ file, mode: 0o600 });
  });

  it('refuses the newest rows past its size bound, keeping what it holds', async () => {
    const one = encodeRecord(entry('s0')).length;
    const spool = await openSpool({ maxBytes: one * 5 + 1 });
    expect(await spool.append(ids(3).map(entry))).toEqual({ written: 3, refused: 0, failed: 0 });
    expect(await spool.append(ids(4, 't').map(entry))).toEqual({ written: 2, refused: 2, failed: 0 });
    expect(await drain(spool)).toEqual([...ids(3), 't0', 't1']);
    expect(await spool.append(ids(1, 'u').map(entry))).toEqual({ written: 1, refused: 0, failed: 0 });
  });

  it('keeps its rows on disk when closed with rows left, for the next process', async () => {
    const spool = await openSpool();
    await spool.append(ids(4).map(entry));
    await spool.close();
    const next = await openSpool();
    expect(await drain(next)).toEqual(ids(4));
  });

  it("adopts a dead process's folder for the same database, and replays it first", async () => {
    leaveOrphan('crashed', { pid: deadPid(), host: os.hostname(), target: 'db-a' }, ids(3, 'old'));
    const spool = await openSpool();
    await spool.append(ids(2, 'new').map(entry));
    expect(await drain(spool)).toEqual([...ids(3, 'old'), ...ids(2, 'new')]);
    expect(existsSync(path.join(dir, 'crashed'))).toBe(false);
  });

  it('leaves alone the folders of live processes, of other databases, and of other hosts', async () => {
    leaveOrphan('live', { pid: process.ppid, host: os.hostname(), target: 'db-a' }, ['x']);
    leaveOrphan('other-db', { pid: deadPid(), host: os.hostname(), target: 'db-b' }, ['y']);
    leaveOrphan('other-host', { pid: deadPid(), host: 'elsewhere', target: 'db-a' }, ['z']);
    const spool = await openSpool();
    expect(await drain(spool)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(
      ['live', 'other-db', 'other-host', path.basename(spool.folder)].sort(),
    );
  });

  it('never adopts the folder of a spool still open in this process', async () => {
    const first = await openSpool();
    await first.append(ids(2).map(entry));
    const second = await openSpool();
    expect(await drain(second)).toEqual([]);
    expect(await drain(first)).toEqual(ids(2));
  });

  it('adopts a folder without a lock only once it is old (a process that died creating it)', async () => {
    const folder = path.join(dir, 'unlocked');
    mkdirSync(folder);
    writeFileSync(path.join(folder, '0000000001.seg'), encodeRecord(entry('lost')));
    const young = await openSpool();
    expect(await drain(young)).toEqual([]);
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(folder, old, old);
    expect(await young.adoptOrphans()).toBe(1);
    expect(await drain(young)).toEqual(['lost']);
  });

  it('adopts, through a folder that had adopted another, every row in order', async () => {
    const outer = leaveOrphan('outer', { pid: deadPid(), host: os.hostname(), target: 'db-a' }, ['o1']);
    const inner = path.join(outer, 'adopted-inner');
    mkdirSync(inner);
    writeFileSync(path.join(inner, '0000000001.seg'), encodeRecord(entry('i1')));
    const spool = await openSpool();
    expect(await drain(spool)).toEqual(['i1', 'o1']);
  });

  it('reads the rows of a segment around a torn record', async () => {
    const folder = leaveOrphan('torn', { pid: deadPid(), host: os.hostname(), target: 'db-a' }, []);
    const good = Buffer.concat(['g1', 'g2'].map((id) => encodeRecord(entry(id))));
    writeFileSync(
      path.join(folder, '0000000001.seg'),
      Buffer.concat([good, encodeRecord(entry('torn')).subarray(0, 30)]),
    );
    const spool = await openSpool();
    const segment = await spool.nextSegment();
    expect(segment).toMatchObject({ truncated: true, corrupt: 0 });
    expect(segment!.entries.map((e) => e.row.span_id)).toEqual(['g1', 'g2']);
  });
});

import { describe, expect, it } from 'vitest';
import { pipelineHealth, type InstanceSnapshot } from '../../doctor/pipeline-health.js';

const MINUTE = 60_000;
const options = { windowMillis: 15 * MINUTE, staleAfterMillis: 5 * MINUTE };

function snapshot(overrides: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  return {
    instanceId: 'web-1/4242/1790000000000',
    serviceName: 'shop',
    ageMillis: 20_000,
    final: false,
    queuedRows: 4,
    spoolBytes: 0,
    exportedRows: 1200,
    retries: 1,
    spooledRows: 0,
    replayedRows: 0,
    droppedRows: {},
    rejectedRows: {},
    droppedRowsBefore: {},
    rejectedRowsBefore: {},
    lastError: null,
    ...overrides,
  };
}

describe('pipelineHealth', () => {
  it('says, without failing, that no pipeline has reported yet', () => {
    expect(pipelineHealth([], options, null)).toEqual([
      { check: 'pipeline', status: 'ok', message: expect.stringContaining('no pipeline has reported yet') },
    ]);
  });

  it('says when the latest report was, when none is recent', () => {
    const [check] = pipelineHealth([], options, new Date('2026-11-01T10:00:00Z'));
    expect(check).toMatchObject({
      status: 'ok',
      message: expect.stringContaining('2026-11-01T10:00:00.000Z'),
    });
  });

  it('reports the latest counters of a healthy process', () => {
    const [check] = pipelineHealth([snapshot()], options, null);
    expect(check).toEqual({
      check: 'pipeline',
      status: 'ok',
      message:
        'web-1/4242/1790000000000 (shop): last report 20 s ago; exported 1200 rows, 4 queued, 1 retries, 0 spooled, 0 replayed',
    });
  });

  it('warns about rows dropped within the window, by reason, with a fix for each', () => {
    const [check] = pipelineHealth(
      [
        snapshot({
          droppedRows: { queue_full: 9, database_unavailable: 1, shutdown_timeout: 4 },
          droppedRowsBefore: { queue_full: 2, shutdown_timeout: 4 },
          lastError: 'connect ECONNREFUSED\n 10.0.0.1:5432',
        }),
      ],
      options,
      null,
    );
    expect(check!.status).toBe('warn');
    expect(check!.message).toContain(
      'dropped 8 rows in the last 15 min (queue_full: 7, database_unavailable: 1)',
    );
    expect(check!.message).toContain('last error: connect ECONNREFUSED 10.0.0.1:5432');
    expect(check!.fix).toContain('maxQueueRows');
    expect(check!.fix).toContain('database_unavailable');
    expect(check!.fix).not.toContain('shutdown_timeout');
  });

  it('does not warn about drops that happened before the window', () => {
    const [check] = pipelineHealth(
      [snapshot({ droppedRows: { queue_full: 3 }, droppedRowsBefore: { queue_full: 3 }, lastError: 'old' })],
      options,
      null,
    );
    expect(check!.status).toBe('ok');
    expect(check!.message).not.toContain('old');
  });

  it('warns about rows PostgreSQL refused within the window', () => {
    const [check] = pipelineHealth([snapshot({ rejectedRows: { rejected_row: 2 } })], options, null);
    expect(check).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('PostgreSQL refused 2 rows in the last 15 min (rejected_row: 2)'),
    });
  });

  it('warns about bytes waiting in the spool', () => {
    const [check] = pipelineHealth([snapshot({ spoolBytes: 3 * 1024 * 1024 })], options, null);
    expect(check).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('3.0 MB waiting in its spool'),
    });
  });

  it('warns about a process that stopped reporting without a final snapshot', () => {
    const [check] = pipelineHealth([snapshot({ ageMillis: 40 * MINUTE })], options, null);
    expect(check).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('stopped reporting 40 min ago'),
      fix: expect.stringContaining('can reach the database'),
    });
  });

  it('leaves alone a process that shut down cleanly, and forgets it after the window', () => {
    const [recent] = pipelineHealth([snapshot({ final: true, ageMillis: 10 * MINUTE })], options, null);
    expect(recent).toMatchObject({ status: 'ok', message: expect.stringContaining('ended 10 min ago') });
    const [old] = pipelineHealth([snapshot({ final: true, ageMillis: 30 * MINUTE })], options, null);
    expect(old).toMatchObject({
      status: 'ok',
      message: expect.stringContaining('the last one, web-1/4242/1790000000000, shut down 30 min ago'),
    });
  });

  it('gives one line per process', () => {
    const checks = pipelineHealth(
      [snapshot({ instanceId: 'a/1/1' }), snapshot({ instanceId: 'b/2/2', serviceName: null })],
      options,
      null,
    );
    expect(checks.map((c) => c.message.split(':')[0])).toEqual(['a/1/1 (shop)', 'b/2/2']);
  });
});

import { describe, expect, it } from 'vitest';
import type { TableRow } from '../../database/analytics-database.js';
import { decodeRecords, encodeRecord } from '../../exporter/spool/spool-record.js';

function entry(i: number): TableRow {
  return {
    table: 'authentication_log',
    row: {
      time: `2026-11-26T12:00:00.${String(i).padStart(6, '0')}Z`,
      trace_id: null,
      span_id: `span-${i}`,
      service_name: 'svc',
      metadata: JSON.stringify({ note: `row ${i} é \u2028` }),
      user_id: `user-${i}`,
      event_type: 'login',
      ip_address: '127.0.0.1',
      user_agent: null,
      success: true,
      error_message: null,
    },
  };
}

const entries = Array.from({ length: 5 }, (_, i) => entry(i));
const records = entries.map(encodeRecord);
const segment = Buffer.concat(records);

describe('spool records', () => {
  it('read back exactly what was written, in order', () => {
    expect(decodeRecords(segment)).toEqual({ entries, corrupt: 0, truncated: false });
  });

  it('skip a record with a flipped byte and keep the others', () => {
    const damaged = Buffer.from(segment);
    const second = records[0]!.length;
    damaged[second + 20] = damaged[second + 20]! ^ 0xff;
    const decoded = decodeRecords(damaged);
    expect(decoded.entries.map((e) => e.row.span_id)).toEqual(['span-0', 'span-2', 'span-3', 'span-4']);
    expect(decoded).toMatchObject({ corrupt: 1, truncated: false });
  });

  it('skip a record whose length field is damaged, and find the next one', () => {
    const damaged = Buffer.from(segment);
    damaged.writeUInt32LE(records[0]!.length * 3, records[0]!.length);
    const decoded = decodeRecords(damaged);
    expect(decoded.entries.map((e) => e.row.span_id)).toEqual(['span-0', 'span-2', 'span-3', 'span-4']);
    expect(decoded.corrupt).toBe(1);
  });

  it('report a last record cut off by a crash, keeping those before it', () => {
    const decoded = decodeRecords(segment.subarray(0, segment.length - 7));
    expect(decoded.entries).toHaveLength(4);
    expect(decoded).toMatchObject({ corrupt: 0, truncated: true });
  });

  it('take nothing from garbage, or from a record naming no known table', () => {
    expect(decodeRecords(Buffer.from('not a spool segment at all, just text'))).toMatchObject({
      entries: [],
      corrupt: 1,
    });
    const alien = encodeRecord({ ...entries[0]!, table: 'pg_authid' } as unknown as TableRow);
    expect(decodeRecords(Buffer.concat([alien, records[1]!]))).toMatchObject({
      entries: [entries[1]],
      corrupt: 1,
    });
  });
});

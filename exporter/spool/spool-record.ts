import { crc32 } from 'node:zlib';
import { TABLE_COLUMNS, type TableName, type TableRow } from '../../database/analytics-database.js';

/**
 * A spool record on disk: `u32le length`, `u32le crc32(payload)`, then the payload, the row as
 * JSON (`{"t": table, "r": row}`). The checksum tells a torn or flipped record from a good one,
 * and the length lets a reader step over it.
 */
const HEADER_BYTES = 8;
/** Larger lengths are taken for damage (rows are capped far below this). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Encodes one row as a spool record. */
export function encodeRecord(entry: TableRow): Buffer {
  const payload = Buffer.from(JSON.stringify({ t: entry.table, r: entry.row }), 'utf8');
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  payload.copy(record, HEADER_BYTES);
  return record;
}

/** What reading a segment gave. */
export interface DecodedSegment {
  entries: TableRow[];
  /** Damaged stretches skipped (a flipped byte, a record of an unknown table...). */
  corrupt: number;
  /** The segment ends inside a record: a write cut off (by a crash, or by a write that failed). */
  truncated: boolean;
}

/**
 * Decodes the records of a segment. A damaged record is skipped by scanning forward to the
 * next record whose checksum holds, so one bad byte costs one record, not the segment.
 */
export function decodeRecords(buffer: Buffer): DecodedSegment {
  const entries: TableRow[] = [];
  let corrupt = 0;
  let truncated = false;
  let offset = 0;
  while (offset < buffer.length) {
    const result = readRecord(buffer, offset);
    if (typeof result === 'object') {
      entries.push(result.entry);
      offset = result.next;
      continue;
    }
    // Damaged, or cut off: a good record further on means damage (a flipped length can look
    // like a cut); none means the tail of a write that was interrupted, or damage to the end.
    const next = nextRecordOffset(buffer, offset + 1);
    if (next === undefined) {
      if (result === 'truncated') truncated = true;
      else corrupt++;
      break;
    }
    corrupt++;
    offset = next;
  }
  return { entries, corrupt, truncated };
}

function nextRecordOffset(buffer: Buffer, from: number): number | undefined {
  for (let offset = from; offset + HEADER_BYTES < buffer.length; offset++) {
    if (typeof readRecord(buffer, offset) === 'object') return offset;
  }
  return undefined;
}

function readRecord(buffer: Buffer, offset: number): { entry: TableRow; next: number } | 'truncated' | 'bad' {
  if (buffer.length - offset < HEADER_BYTES) return 'truncated';
  const length = buffer.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) return 'bad';
  const end = offset + HEADER_BYTES + length;
  if (end > buffer.length) return 'truncated';
  const payload = buffer.subarray(offset + HEADER_BYTES, end);
  if (crc32(payload) !== buffer.readUInt32LE(offset + 4)) return 'bad';
  const entry = parseEntry(payload);
  return entry ? { entry, next: end } : 'bad';
}

function parseEntry(payload: Buffer): TableRow | undefined {
  try {
    const value = JSON.parse(payload.toString('utf8')) as { t?: unknown; r?: unknown };
    if (typeof value.t !== 'string' || !Object.hasOwn(TABLE_COLUMNS, value.t)) return undefined;
    if (typeof value.r !== 'object' || value.r === null) return undefined;
    return { table: value.t as TableName, row: value.r } as TableRow;
  } catch {
    return undefined;
  }
}

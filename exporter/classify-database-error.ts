import type { ConnectionFailureClass } from '../database/classify-connection-error.js';
import { classifyPoolerError } from '../database/classify-pooler-error.js';
import { ConnectionFailedError } from '../database/connection-failed-error.js';

/**
 * What to do about a failed write:
 * - `retry`: the database or the network is (probably) briefly unavailable;
 * - `data`: some row was rejected; bisect the batch to isolate it and write the rest;
 * - `fatal`: retrying cannot help (missing table, no privilege, bad credentials); the message
 *   says how to fix it.
 */
export type DatabaseErrorKind = 'retry' | 'data' | 'fatal';

export interface DatabaseErrorClass {
  kind: DatabaseErrorKind;
  /** A short, stable reason, used to count dropped rows. */
  reason: string;
  /** What to tell the operator. */
  message: string;
}

const RETRYABLE_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '25006', // read_only_sql_transaction (failover in progress)
]);

/** Why Postgres refused a row, for the counters (other data errors: `rejected_row`). */
const DATA_REASONS: Record<string, string> = {
  '22021': 'invalid_encoding', // character_not_in_repertoire (a NUL byte in text)
  '22P05': 'untranslatable_character', // a NUL in jsonb
  '22P02': 'invalid_text_representation',
  '22003': 'number_out_of_range',
  '22001': 'value_too_long',
  '22007': 'invalid_datetime',
  '22008': 'invalid_datetime',
  '23514': 'check_violation',
  '54000': 'value_too_large', // an indexed text past the btree limit
};

const RETRYABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Classifies an error from `pg` by SQLSTATE, errno, or (for the few without either) message. */
export function classifyDatabaseError(error: unknown, table?: string): DatabaseErrorClass {
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const text = error instanceof Error ? error.message : String(error);
  const relation = table ?? 'the log tables';

  // The exporter's own pool explains every connection it could not make (TLS failures, which
  // only it can explain, among them). No row causes those, so they never drop rows.
  if (error instanceof ConnectionFailedError) return connectionFailureClass(error.failure);
  if (code === '42P01') {
    return {
      kind: 'fatal',
      reason: 'schema_missing',
      message: `table ${relation} does not exist: run \`otel-pg-analytics migrate\``,
    };
  }
  // 23502 (not null): the mapper never sends null for a NOT NULL column, so the table differs.
  if (code === '42703' || code === '42804' || code === '23502') {
    return {
      kind: 'fatal',
      reason: 'schema_mismatch',
      message: `${relation} does not match this version's schema (${text}): run \`otel-pg-analytics migrate\``,
    };
  }
  if (code === '42501') {
    return {
      kind: 'fatal',
      reason: 'permission_denied',
      message: `the database role may not insert into ${relation} (${text}): grant INSERT on the log tables`,
    };
  }
  if (code.startsWith('28') || code === '3D000') {
    return {
      kind: 'fatal',
      reason: 'connection_rejected',
      message: `the database refused the connection: ${text}`,
    };
  }
  // PgBouncer sends all its errors as 08P01: those are explained (a supplied pool's connection
  // failures come unexplained). Otherwise 08P01 is a protocol violation (a client bug such as
  // too many parameters), not a network fault.
  if (code === '08P01') {
    const pooler = classifyPoolerError(error);
    if (pooler !== undefined) return connectionFailureClass(pooler);
    return { kind: 'fatal', reason: 'protocol_violation', message: text };
  }
  if (
    RETRYABLE_CODES.has(code) ||
    code.startsWith('08') ||
    code.startsWith('53') ||
    RETRYABLE_ERRNOS.has(code)
  ) {
    return { kind: 'retry', reason: 'database_unavailable', message: text };
  }
  // A row outside every partition (and no default one): the table needs upkeep, not the row.
  if (code === '23514' && /no partition of relation/i.test(text)) {
    return {
      kind: 'fatal',
      reason: 'no_partition',
      message: `${relation} has no partition for a row (${text}): run \`otel-pg-analytics migrate\` or add a default partition`,
    };
  }
  if (code.startsWith('22') || (code.startsWith('23') && code !== '23505') || code === '54000') {
    return { kind: 'data', reason: DATA_REASONS[code] ?? 'rejected_row', message: text };
  }
  if (code === '') {
    // pg raises these without a SQLSTATE when the connection breaks or times out.
    if (/connection|terminated|timeout|not queryable|socket|closed/i.test(text)) {
      return { kind: 'retry', reason: 'database_unavailable', message: text };
    }
  }
  return { kind: 'fatal', reason: 'database_error', message: text };
}

/** A connection that could not be made and gives no reason to think it will not be: retried. */
const PASSING_CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  'refused',
  'host_not_found',
  'timeout',
  'server_busy',
  'other',
]);

/**
 * A failed connection as a write failure: retried while it may pass by itself (the server is
 * down, busy, or unreachable), or else waiting for an operator's fix (a refused login, a
 * missing database, a startup parameter a pooler rejects, TLS), with the fix in the message.
 */
function connectionFailureClass(failure: ConnectionFailureClass): DatabaseErrorClass {
  const message = `${failure.message}: ${failure.fix}`;
  if (PASSING_CONNECTION_FAILURES.has(failure.reason)) {
    return { kind: 'retry', reason: 'database_unavailable', message };
  }
  const reason = failure.reason.startsWith('tls_') ? 'tls_failed' : 'connection_rejected';
  return { kind: 'fatal', reason, message };
}

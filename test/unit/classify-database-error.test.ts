import { describe, expect, it } from 'vitest';
import type { ConnectionFailure } from '../../database/classify-connection-error.js';
import { ConnectionFailedError } from '../../database/connection-failed-error.js';
import { classifyDatabaseError, type DatabaseErrorKind } from '../../exporter/classify-database-error.js';

function pgError(code: string | undefined, message = `error ${code ?? ''}`): Error {
  const error = new Error(message);
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

describe('classifyDatabaseError', () => {
  it.each<[string, DatabaseErrorKind]>([
    ['42P01', 'fatal'],
    ['42703', 'fatal'],
    ['23502', 'fatal'],
    ['42804', 'fatal'],
    ['42501', 'fatal'],
    ['28P01', 'fatal'],
    ['28000', 'fatal'],
    ['3D000', 'fatal'],
    ['08P01', 'fatal'],
    ['08006', 'retry'],
    ['08001', 'retry'],
    ['08003', 'retry'],
    ['57P01', 'retry'],
    ['57P02', 'retry'],
    ['57P03', 'retry'],
    ['57014', 'retry'],
    ['53300', 'retry'],
    ['53100', 'retry'],
    ['40001', 'retry'],
    ['40P01', 'retry'],
    ['55P03', 'retry'],
    ['25006', 'retry'],
    ['ECONNREFUSED', 'retry'],
    ['ECONNRESET', 'retry'],
    ['ETIMEDOUT', 'retry'],
    ['EHOSTUNREACH', 'retry'],
    ['ENOTFOUND', 'retry'],
    ['EPIPE', 'retry'],
    ['22021', 'data'],
    ['22P02', 'data'],
    ['22001', 'data'],
    ['22003', 'data'],
    ['23514', 'data'],
    ['54000', 'data'],
    ['42601', 'fatal'],
    ['XX000', 'fatal'],
  ])('classifies %s as %s', (code, kind) => {
    expect(classifyDatabaseError(pgError(code)).kind).toBe(kind);
  });

  it('does not treat a unique violation (23505) as a bad row', () => {
    expect(classifyDatabaseError(pgError('23505')).kind).not.toBe('data');
  });

  it('does not retry a protocol violation (08P01)', () => {
    const result = classifyDatabaseError(pgError('08P01', 'bind message has 70000 parameter formats'));
    expect(result.kind).toBe('fatal');
    expect(result.message).toContain('70000');
  });

  it('says how to fix a missing table, naming it', () => {
    const result = classifyDatabaseError(
      pgError('42P01', 'relation "api_access_log" does not exist'),
      'api_access_log',
    );
    expect(result.kind).toBe('fatal');
    expect(result.reason).toBe('schema_missing');
    expect(result.message).toContain('otel-pg-analytics migrate');
    expect(result.message).toContain('api_access_log');
  });

  it('says how to fix a missing table when the table is not known', () => {
    expect(classifyDatabaseError(pgError('42P01')).message).toContain('otel-pg-analytics migrate');
  });

  it('says how to fix a schema mismatch', () => {
    const result = classifyDatabaseError(
      pgError('42703', 'column "peer_address" does not exist'),
      'api_access_log',
    );
    expect(result.reason).toBe('schema_mismatch');
    expect(result.message).toContain('otel-pg-analytics migrate');
    expect(result.message).toContain('peer_address');
  });

  it('says how to fix a missing privilege', () => {
    const result = classifyDatabaseError(pgError('42501', 'permission denied for table api_access_log'));
    expect(result.reason).toBe('permission_denied');
    expect(result.message).toMatch(/grant/i);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
    'socket hang up',
  ])('retries the uncoded error %j', (message) => {
    const result = classifyDatabaseError(new Error(message));
    expect(result.kind).toBe('retry');
    expect(result.reason).toBe('database_unavailable');
    expect(result.message).toBe(message);
  });

  it('treats an uncoded error that says nothing about the connection as fatal', () => {
    expect(classifyDatabaseError(new Error('Cannot read properties of undefined')).kind).toBe('fatal');
  });

  it('gives stable reasons for retry and data errors', () => {
    expect(classifyDatabaseError(pgError('40001')).reason).toBe('database_unavailable');
    expect(classifyDatabaseError(pgError('22021')).reason).toBe('invalid_encoding');
    expect(classifyDatabaseError(pgError('54000')).reason).toBe('value_too_large');
    expect(classifyDatabaseError(pgError('22023')).reason).toBe('rejected_row');
  });

  it('tells a row outside every partition (fix the table) from a row failing a check (reject the row)', () => {
    const noPartition = Object.assign(new Error('no partition of relation "api_access_log" found for row'), {
      code: '23514',
    });
    expect(classifyDatabaseError(noPartition)).toMatchObject({ kind: 'fatal', reason: 'no_partition' });
    expect(classifyDatabaseError(pgError('23514'))).toMatchObject({
      kind: 'data',
      reason: 'check_violation',
    });
  });

  it.each([
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['an object with a numeric code', { code: 42 }],
  ])('classifies a thrown %s without throwing', (_label, value) => {
    const result = classifyDatabaseError(value);
    expect(['retry', 'data', 'fatal']).toContain(result.kind);
    expect(typeof result.message).toBe('string');
  });

  it('reads the code of a plain object', () => {
    expect(classifyDatabaseError({ code: '40P01', message: 'deadlock' }).kind).toBe('retry');
  });

  it.each<[ConnectionFailure, DatabaseErrorKind, string]>([
    ['refused', 'retry', 'database_unavailable'],
    ['host_not_found', 'retry', 'database_unavailable'],
    ['timeout', 'retry', 'database_unavailable'],
    ['server_busy', 'retry', 'database_unavailable'],
    ['other', 'retry', 'database_unavailable'],
    ['auth_failed', 'fatal', 'connection_rejected'],
    ['database_missing', 'fatal', 'connection_rejected'],
    ['startup_parameter_rejected', 'fatal', 'connection_rejected'],
    ['pooler_rejected', 'fatal', 'connection_rejected'],
    ['tls_untrusted_ca', 'fatal', 'tls_failed'],
  ])(
    'never takes a connection that failed (%s) for a bad row: %s, %s, with the fix',
    (reason, kind, counted) => {
      const error = new ConnectionFailedError({ reason, message: 'what happened', fix: 'what to do' });
      expect(classifyDatabaseError(error)).toEqual({
        kind,
        reason: counted,
        message: 'what happened: what to do',
      });
    },
  );

  it("explains PgBouncer's refusals (all 08P01) as connection failures, even unexplained by the pool", () => {
    const refused = pgError('08P01', 'unsupported startup parameter: statement_timeout');
    expect(classifyDatabaseError(refused)).toMatchObject({ kind: 'fatal', reason: 'connection_rejected' });
    expect(classifyDatabaseError(refused).message).toContain('ignore_startup_parameters');
    expect(classifyDatabaseError(pgError('08P01', 'no such database: analytics'))).toMatchObject({
      kind: 'fatal',
      reason: 'connection_rejected',
    });
    expect(classifyDatabaseError(pgError('08P01', 'query_wait_timeout')).kind).toBe('retry');
  });
});

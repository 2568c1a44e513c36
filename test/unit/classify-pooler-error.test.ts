import { describe, expect, it } from 'vitest';
import { classifyConnectionError, type ConnectionFailure } from '../../database/classify-connection-error.js';
import { classifyPoolerError } from '../../database/classify-pooler-error.js';

const target = { host: 'pgbouncer.internal', port: 6432, database: 'analytics', user: 'app' };

/** An error as pg raises PgBouncer's ErrorResponse: its message and SQLSTATE 08P01. */
function bouncer(message: string, code = '08P01'): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

describe('classifyPoolerError', () => {
  // The messages as PgBouncer 1.18 sends them (seen against a real one: test/integration/pgbouncer.test.ts).
  it.each<[string, ConnectionFailure]>([
    ['unsupported startup parameter: statement_timeout', 'startup_parameter_rejected'],
    ['unsupported startup parameter: options', 'startup_parameter_rejected'],
    ['no such database: analytics', 'database_missing'],
    ['database "analytics" does not exist', 'database_missing'],
    ['database "analytics" is disabled', 'pooler_rejected'],
    ['password authentication failed', 'auth_failed'],
    ['"trust" authentication failed', 'auth_failed'],
    ['SASL authentication failed', 'auth_failed'],
    ['no such user: app', 'auth_failed'],
    ['not allowed', 'auth_failed'],
    ['password authentication failed for user "app"', 'auth_failed'],
    ['role "app" does not exist', 'auth_failed'],
    [
      'no pg_hba.conf entry for host "10.0.0.7", user "app", database "analytics", no encryption',
      'auth_failed',
    ],
    ['no more connections allowed (max_client_conn)', 'server_busy'],
    ['query_wait_timeout', 'server_busy'],
    ['client_login_timeout (server down)', 'server_busy'],
    ['server login has been failing, try again later (server_login_retry)', 'server_busy'],
    ['server conn crashed?', 'server_busy'],
    ['the database system is starting up', 'server_busy'],
  ])('explains "%s" as %s', (message, reason) => {
    expect(classifyPoolerError(bouncer(message), target)?.reason).toBe(reason);
    // classifyConnectionError (doctor, withClient, the exporter's pool) says the same.
    expect(classifyConnectionError(bouncer(message), target, 5000).reason).toBe(reason);
  });

  it('names the parameter and both fixes for a rejected startup parameter', () => {
    const failure = classifyPoolerError(bouncer('unsupported startup parameter: statement_timeout'), target)!;
    expect(failure.message).toContain(
      'PgBouncer at pgbouncer.internal:6432 rejected the startup parameter statement_timeout',
    );
    expect(failure.fix).toContain('ignore_startup_parameters');
    expect(failure.fix).toContain('upgrade');
    expect(failure.fix).toContain('RELOAD');
  });

  it('says to add a missing database to [databases], naming it', () => {
    const failure = classifyPoolerError(bouncer('no such database: analytics'), target)!;
    expect(failure.message).toContain('"analytics"');
    expect(failure.fix).toContain('analytics = host=');
    expect(failure.fix).toContain('[databases]');
  });

  it('points a refused login at the auth_file, naming the user but no password', () => {
    const failure = classifyPoolerError(bouncer('password authentication failed'), target)!;
    expect(failure.message).toContain('"app"');
    expect(failure.fix).toContain('auth_file');
  });

  it('leaves other errors, and PgBouncer-like text with another SQLSTATE, to the usual rules', () => {
    expect(
      classifyPoolerError(
        bouncer('bind message supplies 2 parameters, but prepared statement requires 1'),
        target,
      ),
    ).toBeUndefined();
    expect(classifyPoolerError(bouncer('no such database: analytics', '3D000'), target)).toBeUndefined();
    expect(classifyPoolerError(new Error('no such database: analytics'), target)).toBeUndefined();
    expect(classifyPoolerError(undefined, target)).toBeUndefined();
    expect(classifyConnectionError(bouncer('something new'), target, 5000).reason).toBe('other');
  });

  it('names no address without a target', () => {
    const failure = classifyPoolerError(bouncer('no such database: analytics'))!;
    expect(failure.message).toMatch(/^PgBouncer has no database "analytics"/);
  });
});

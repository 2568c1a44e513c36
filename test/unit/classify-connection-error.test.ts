import { describe, expect, it } from 'vitest';
import { classifyConnectionError, type ConnectionFailure } from '../../database/classify-connection-error.js';

const target = { host: 'db.example', port: 5432, database: 'analytics', user: 'app' };

function error(code: string | undefined, message = `error ${code ?? ''}`): Error {
  const e = new Error(message);
  if (code !== undefined) Object.assign(e, { code });
  return e;
}

describe('classifyConnectionError', () => {
  it.each<[string, Error, ConnectionFailure]>([
    ['a refused connection', error('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'), 'refused'],
    ['an unknown host', error('ENOTFOUND', 'getaddrinfo ENOTFOUND db.example'), 'host_not_found'],
    ['a DNS failure that may pass', error('EAI_AGAIN'), 'host_not_found'],
    ["pg's own connection timeout", error(undefined, 'timeout expired'), 'timeout'],
    ['a TCP timeout', error('ETIMEDOUT'), 'timeout'],
    ['an unreachable host', error('EHOSTUNREACH'), 'timeout'],
    ['a wrong password', error('28P01', 'password authentication failed for user "app"'), 'auth_failed'],
    ['a missing role or a pg_hba.conf rejection', error('28000', 'role "app" does not exist'), 'auth_failed'],
    [
      'a password the server asks for but the URL lacks',
      error(undefined, 'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'),
      'auth_failed',
    ],
    ['a missing database', error('3D000', 'database "analytics" does not exist'), 'database_missing'],
    ['too many connections', error('53300'), 'server_busy'],
    ['a server starting up', error('57P03'), 'server_busy'],
    ['anything else', error('XX000', 'internal error'), 'other'],
  ])('classifies %s', (_what, e, reason) => {
    expect(classifyConnectionError(e, target, 5000).reason).toBe(reason);
  });

  it('says where and what to do, naming the database to create', () => {
    const failure = classifyConnectionError(error('3D000'), target, 5000);
    expect(failure.message).toContain('"analytics"');
    expect(failure.message).toContain('db.example:5432');
    expect(failure.fix).toContain('createdb analytics');
    expect(failure.fix).toContain('otel-pg-analytics migrate');
  });

  it('names the timeout it waited', () => {
    expect(classifyConnectionError(error(undefined, 'timeout expired'), target, 1234).message).toContain(
      '1234 ms',
    );
  });

  it('reads the messages of an AggregateError from a host with several addresses', () => {
    const aggregate = Object.assign(
      new AggregateError([
        error('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432'),
        error('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      ]),
      { code: 'ECONNREFUSED' },
    );
    const failure = classifyConnectionError(aggregate, { ...target, host: 'localhost' }, 5000);
    expect(failure.reason).toBe('refused');
    expect(failure.message).toContain('::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('classifies what is not an Error', () => {
    expect(classifyConnectionError('boom', target, 5000)).toMatchObject({ reason: 'other' });
    expect(classifyConnectionError(undefined, target, 5000)).toMatchObject({ reason: 'other' });
  });
});

import { describe, expect, it } from 'vitest';
import { classifyTlsFailure } from '../../database/classify-connection-error.js';

// The failures a TLS server of the test's own can show are in test/integration/tls.test.ts and
// tls-end-to-end.test.ts; these are the ones it cannot (without waiting for a certificate to
// expire), and errors that are not about TLS.
const target = {
  host: 'db.example',
  port: 5432,
  mode: 'verify-full' as const,
  rootCert: '/etc/ssl/db-ca.crt',
};

function error(code: string | undefined, message: string): Error {
  const e = new Error(message);
  if (code !== undefined) Object.assign(e, { code });
  return e;
}

describe('classifyTlsFailure', () => {
  it('reports an expired certificate with what OpenSSL said', () => {
    expect(classifyTlsFailure(error('CERT_HAS_EXPIRED', 'certificate has expired'), target)).toEqual({
      reason: 'tls_failed',
      message: 'TLS with db.example:5432 failed: certificate has expired (CERT_HAS_EXPIRED)',
      fix: "check the server's certificate (its dates, the chain it sends), the sslmode, and sslcert and sslkey if the server asks for a client certificate",
    });
  });

  it.each([
    [
      'a handshake alert',
      error('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'),
    ],
    ['a protocol error', error('EPROTO', 'write EPROTO wrong version number')],
    [
      'a server that answered the SSLRequest with an error',
      error(undefined, 'There was an error establishing an SSL connection'),
    ],
  ])('reports %s as a TLS failure', (_what, e) => {
    expect(classifyTlsFailure(e, target)?.reason).toBe('tls_failed');
  });

  it('names the CA as such when the certificate is self-signed', () => {
    const failure = classifyTlsFailure(error('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), {
      ...target,
      rootCert: undefined,
    });
    expect(failure?.reason).toBe('tls_untrusted_ca');
    expect(failure?.fix).toContain('add sslrootcert=/path/to/ca.crt');
  });

  it('under require with a CA file, says that removing sslrootcert skips the check', () => {
    const failure = classifyTlsFailure(
      error('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in chain'),
      {
        ...target,
        mode: 'require',
      },
    );
    expect(failure?.fix).toContain(
      'remove sslrootcert: sslmode=require without it encrypts without verifying',
    );
  });

  it.each([
    ['a refused connection', error('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432')],
    [
      'a reset during the handshake (the network, retried)',
      error('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'),
    ],
    ['a wrong password', error('28P01', 'password authentication failed for user "app"')],
    ['a value that is no error', 'boom'],
  ])('leaves %s to the other reasons', (_what, e) => {
    expect(classifyTlsFailure(e, target)).toBeUndefined();
  });
});

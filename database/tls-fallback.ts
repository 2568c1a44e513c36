import type tls from 'node:tls';
import type { TlsSettings } from './pg-client-config.js';

/**
 * The `ssl` to connect again with after `error`, where libpq would make a second attempt:
 * under prefer, when the server answered the SSLRequest with 'N' (it runs with ssl = off), the
 * second attempt is unencrypted; under allow, when the server refused the unencrypted
 * connection (pg_hba.conf has only `hostssl` for it), it is encrypted. `undefined` otherwise.
 */
export function fallbackSslFor(
  settings: TlsSettings,
  error: unknown,
): false | tls.ConnectionOptions | undefined {
  const fallback = settings.fallback;
  if (fallback === undefined) return undefined;
  const applies = fallback.when === 'tls_refused' ? refusedTls(error) : rejectedPlaintext(error);
  return applies ? fallback.ssl : undefined;
}

/** pg's error (it has no code) for a server that answered 'N' to the SSLRequest. */
function refusedTls(error: unknown): boolean {
  return error instanceof Error && error.message === 'The server does not support SSL connections';
}

/**
 * 28000 (invalid_authorization_specification) from a pg_hba.conf line that does not take
 * unencrypted connections: "..., no encryption" (PostgreSQL 14 and later) or "..., SSL off".
 */
function rejectedPlaintext(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '28000' && error instanceof Error && /no encryption|SSL off/.test(error.message);
}

import pg from 'pg';
import { classifyTlsFailure, type TlsTarget } from './classify-connection-error.js';
import { ConnectionFailedError } from './connection-failed-error.js';
import type { PgClientConfig, TlsSettings } from './pg-client-config.js';
import { fallbackSslFor } from './tls-fallback.js';

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * A `pg.Pool` whose connections follow libpq's sslmode, second attempt included, and whose TLS
 * failures are explained.
 *
 * Why a retry rather than a probe: under prefer (the default) the first connection asks for
 * TLS; a server with ssl = off answers 'N', pg gives up on that connection, and this pool
 * connects again unencrypted, and from then on opens every connection unencrypted at once (its
 * `options.ssl`, which pg reads for each new client). A server that offers TLS costs nothing
 * extra, and one without costs one refused SSLRequest per pool, not one per connection; a
 * separate probe connection would cost every pool a round trip (and on a TLS server a log
 * line about a handshake never made). allow is the mirror image: unencrypted first, then TLS
 * if pg_hba.conf refuses the unencrypted connection.
 *
 * A TLS failure (an untrusted CA, another host name, no TLS under require) is thrown as a
 * {@link ConnectionFailedError} that names the fix; every other error as pg raised it.
 */
export class TlsFallbackPool extends pg.Pool {
  readonly #tls: TlsSettings;

  constructor(config: pg.PoolConfig & PgClientConfig) {
    super(config);
    this.#tls = config.tls;
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    const connected = this.#connect();
    if (callback === undefined) return connected;
    connected.then(
      (client) =>
        callback(undefined, client, (release) => client.release(release as boolean | Error | undefined)),
      (error: Error) => callback(error, undefined, () => {}),
    );
    return undefined;
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await super.connect();
    } catch (error) {
      const ssl = fallbackSslFor(this.#tls, error);
      if (ssl === undefined) throw this.#explained(error);
      this.options.ssl = ssl;
      try {
        return await super.connect();
      } catch (retryError) {
        throw this.#explained(retryError);
      }
    }
  }

  #explained(error: unknown): unknown {
    const target: TlsTarget = this.#tls;
    const failure = classifyTlsFailure(error, target);
    return failure === undefined ? error : new ConnectionFailedError(failure, { cause: error });
  }
}

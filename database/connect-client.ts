import pg from 'pg';
import type { PgClientConfig } from './pg-client-config.js';
import { fallbackSslFor } from './tls-fallback.js';

/**
 * Connects a client of `config` (`client`, when the caller made it already) and returns the
 * client that connected: where libpq makes a second attempt with the other TLS setting
 * (sslmode prefer or allow, see {@link fallbackSslFor}), a second client, made with that
 * setting. Otherwise the error of the attempt is thrown, as pg raised it.
 *
 * ```ts
 * const client = await connectClient(clientConfigOf(process.env.DATABASE_URL!));
 * ```
 */
export async function connectClient(
  config: PgClientConfig & pg.ClientConfig,
  client: pg.Client = new pg.Client(config),
): Promise<pg.Client> {
  try {
    await client.connect();
    return client;
  } catch (error) {
    const ssl = fallbackSslFor(config.tls, error);
    if (ssl === undefined) throw error;
    // The first client's socket is closed already (pg ends it on the server's answer).
    const second = new pg.Client({ ...config, ssl });
    await second.connect();
    return second;
  }
}

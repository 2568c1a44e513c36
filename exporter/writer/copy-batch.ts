import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TABLE_COLUMNS, type TableName } from '../../database/analytics-database.js';
import { setLocalStatementTimeout } from '../../database/local-statement-timeout.js';
import { encodeCopyText } from './encode-copy-text.js';

/**
 * Inserts rows with `COPY ... FROM STDIN`: about twice the rows per second of an
 * `INSERT ... SELECT` (PostgreSQL inserts a COPY's rows in bulk), for the same app CPU. COPY
 * knows no `ON CONFLICT`, so a batch that was written already (a retry after a lost
 * acknowledgement) fails whole with a unique violation, and the caller writes it again with
 * `writeBatch`. Needs only INSERT privilege.
 *
 * The server ends it past `statementTimeoutMillis`: `set local statement_timeout` travels in
 * the same message as the COPY, so the two are one transaction (the setting ends with it, also
 * through a pooler in transaction mode) and cost one round trip, as the COPY alone did. A COPY
 * is not a pg `Query`, so pg's `query_timeout` does not cover it: a second later the connection
 * is destroyed (a cut network would otherwise hold it forever) and the error reads as a lost
 * connection.
 */
export async function copyBatch(
  pool: { connect(): Promise<pg.PoolClient> },
  table: TableName,
  rows: readonly object[],
  statementTimeoutMillis: number,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = TABLE_COLUMNS[table];
  const timeoutMillis = statementTimeoutMillis + 1000;
  const copy = `copy ${table} (${columns.map((c) => `"${c.name}"`).join(', ')}) from stdin`;
  const client = await pool.connect();
  // Released once: by the timer (destroying it) or when the COPY ends, whichever comes first.
  let released = false;
  const release = (error?: Error): void => {
    if (released) return;
    released = true;
    client.release(error);
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = client.query(
      copyFrom(
        `${setLocalStatementTimeout(statementTimeoutMillis)}; ${CITUS_ONE_CONNECTION_PER_WORKER}; ${copy}`,
      ),
    );
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        const error = new Error('COPY timeout: the connection answered nothing');
        reject(error);
        // Destroying the stream's connection ends the COPY on our side.
        release(error);
      }, timeoutMillis);
      stream.on('finish', resolve);
      stream.on('error', reject);
      void writeInSlices(stream, columns, rows).catch(reject);
    });
    release();
  } catch (error) {
    // A server error (a SQLSTATE: bad data, a duplicate) leaves the connection usable; any other
    // failure mid-COPY may not, and release(error) destroys it.
    const serverError = typeof (error as { code?: unknown }).code === 'string';
    release(serverError ? undefined : error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * On Citus, a COPY into a distributed table fans out to every shard, by default over as many
 * connections per worker as it has shards there (and a session keeps one per worker): each
 * batch opened a dozen new connections per worker, and the exporter wrote 1,000 rows/s where
 * `psql \copy` of one large COPY wrote 21,000. One connection per worker for the batch's
 * transaction took it to 17,000 (`BENCH_DATABASE_URL=<coordinator> npm run bench:ingest`).
 * Without Citus the setting is a placeholder PostgreSQL accepts and ignores.
 */
const CITUS_ONE_CONNECTION_PER_WORKER = "set local citus.multi_shard_modify_mode = 'sequential'";

/** Rows encoded per turn of the event loop: encoding a whole batch at once held the app up. */
const ENCODE_SLICE_ROWS = 200;

/** Encodes and writes the rows a slice at a time, letting the app run in between. */
async function writeInSlices(
  stream: NodeJS.WritableStream,
  columns: (typeof TABLE_COLUMNS)[TableName],
  rows: readonly object[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += ENCODE_SLICE_ROWS) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    stream.write(encodeCopyText(columns, rows.slice(i, i + ENCODE_SLICE_ROWS)));
  }
  stream.end();
}

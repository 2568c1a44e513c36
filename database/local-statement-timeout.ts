import pg from 'pg';

/**
 * `statement_timeout` for one transaction only, so that it holds through a pooler in
 * transaction mode (PgBouncer, Supavisor, RDS Proxy) and never reaches another client that
 * shares the server connection. Sent at connect time instead, as a startup parameter, PgBouncer
 * refuses it ("unsupported startup parameter"); set for the session with `SET`, it would stay
 * on a server connection the pooler then lends to someone else.
 *
 * The SQL for the front of a simple-query message (`set local ...; copy ...`, `begin; set
 * local ...`): the statements of one message are one transaction, so the setting ends with it,
 * and it costs no round trip of its own. `millis` must be a whole number of milliseconds.
 */
export function setLocalStatementTimeout(millis: number): string {
  if (!Number.isSafeInteger(millis) || millis < 0) {
    throw new RangeError(`statement timeout ${JSON.stringify(millis)} is not a whole number of ms`);
  }
  return `set local statement_timeout = ${millis}`;
}

/**
 * Runs one statement (extended protocol, so `values` are bound, never spliced into the SQL)
 * with `statement_timeout` set for its own transaction, in the same round trip: the client sends
 * `select set_config('statement_timeout', $1, true)` and the statement one after the other
 * before a single Sync, and PostgreSQL runs everything before a Sync as one transaction (or
 * inside the transaction block already open), arming the timeout afresh for the statement.
 * The server spends one trivial statement more; the client waits for nothing more. The client's
 * own `query_timeout` applies as to any query.
 *
 * ```ts
 * const { rows } = await queryWithLocalTimeout(client, 'select * from api_access_log where id = $1', [42], 15_000);
 * ```
 */
export function queryWithLocalTimeout(
  client: pg.ClientBase,
  text: string,
  values: readonly unknown[],
  statementTimeoutMillis: number,
): Promise<pg.QueryResult> {
  setLocalStatementTimeout(statementTimeoutMillis);
  return new Promise((resolve, reject) => {
    const query = new LocalTimeoutQuery(text, values, String(statementTimeoutMillis));
    query.callback = (error, result) => (error ? reject(error) : resolve(result!));
    client.query(query);
  });
}

/** The parts of pg's wire connection a query sends with (as pg-cursor does). */
interface WireConnection {
  parse(message: { text: string; name: string; types: unknown[] }): void;
  bind(message: { portal: string; statement: string; values: unknown[] }): void;
  execute(message: { portal: string; rows: number }): void;
}

/** The members of pg's `Query` a subclass takes part in (pg calls them; its types omit them). */
interface QueryInternals {
  callback: ((error: Error | null, result?: pg.QueryResult) => void) | undefined;
  prepare(connection: WireConnection): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: WireConnection): void;
}

const Query = pg.Query as unknown as new (
  config: pg.QueryConfig & { queryMode: 'extended' },
) => pg.Query & QueryInternals;

const SET_TIMEOUT = "select set_config('statement_timeout', $1, true)";

/**
 * pg's own query, with the `set_config` parsed, bound and executed in front of it. Its answer
 * (a row and a command tag, before the statement's own) is not part of the result. An error in
 * either ends the query as any error does: the server skips to the Sync, and pg reports it.
 */
class LocalTimeoutQuery extends Query {
  readonly #millis: string;
  /** The answer to the set_config is still coming. */
  #preamble = true;

  constructor(text: string, values: readonly unknown[], millis: string) {
    // Extended even without values: a statement and its set_config share one Sync.
    super({ text, values: [...values], queryMode: 'extended' });
    this.#millis = millis;
  }

  override prepare(connection: WireConnection): void {
    connection.parse({ text: SET_TIMEOUT, name: '', types: [] });
    connection.bind({ portal: '', statement: '', values: [this.#millis] });
    connection.execute({ portal: '', rows: 0 });
    super.prepare(connection);
  }

  override handleDataRow(message: unknown): void {
    if (!this.#preamble) super.handleDataRow(message);
  }

  override handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (this.#preamble) this.#preamble = false;
    else super.handleCommandComplete(message, connection);
  }
}

// Rows a benchmark's app has written so far: its requests and its external calls (auth events
// would be a third table; no scenario makes them).
/**
 * Rows of `service` in api_access_log and external_api_call_log since `since`. By time first
 * (each table's primary key starts with it): a scan of every earlier run's rows, 20 times a
 * second, would compete with the server being measured.
 * @param {{ query: (sql: string, values: unknown[]) => Promise<{ rows: { n: number }[] }> }} db
 * @param {string} service
 * @param {Date} since
 */
export async function countRows(db, service, since) {
  const { rows } = await db.query(
    `select (select count(*) from api_access_log where time >= $1 and service_name = $2)
          + (select count(*) from external_api_call_log where time >= $1 and service_name = $2) as n`,
    [since, service],
  );
  return Number(rows[0]?.n);
}

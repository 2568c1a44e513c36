import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import type { AnalyticsDatabase } from '../database/analytics-database.js';
import type { ConnectionFailureClass } from '../database/classify-connection-error.js';
import type { DoctorCheck } from './doctor-check.js';
import type { CheckOutcome } from './run-check.js';

/** Who the checks run as, quoted for a GRANT. */
export interface DoctorSession {
  role: string;
  quotedRole: string;
}

/**
 * The connection that was made: server version, connect time and round trip, whether it is
 * encrypted (the TLS version, from `pg_stat_ssl`), and who it is (the {@link DoctorSession}
 * the other checks run as); without a session when even the first query fails. `where` is the
 * connection string with its password masked.
 */
export async function connectionCheck(
  db: Kysely<AnalyticsDatabase>,
  where: string,
  connectMillis: number,
): Promise<CheckOutcome<DoctorSession>> {
  try {
    const before = performance.now();
    await sql`select 1`.execute(db);
    const roundTripMillis = performance.now() - before;
    const { rows } = await sql<{ version: string; role: string; quoted_role: string; tls: string | null }>`
      select current_setting('server_version') as version, current_user as role,
             quote_ident(current_user) as quoted_role,
             (select version from pg_stat_ssl where pid = pg_backend_pid()) as tls`.execute(db);
    const info = rows[0]!;
    const encryption = info.tls === null ? 'unencrypted' : `over ${info.tls}`;
    return {
      checks: [
        {
          check: 'connection',
          status: 'ok',
          message: `${where} as ${info.role}: PostgreSQL ${info.version}, connected in ${connectMillis.toFixed(0)} ms, round trip ${roundTripMillis.toFixed(1)} ms, ${encryption}`,
        },
      ],
      value: { role: info.role, quotedRole: info.quoted_role },
    };
  } catch (error) {
    return {
      checks: [
        {
          check: 'connection',
          status: 'fail',
          message: `${where}: connected, but the first query failed: ${error instanceof Error ? error.message : String(error)}`,
          fix: 'check the server log',
        },
      ],
    };
  }
}

/** The connection that could not be made, and what to do about it. */
export function connectionFailedCheck(where: string, failure: ConnectionFailureClass): DoctorCheck {
  return { check: 'connection', status: 'fail', message: `${where}: ${failure.message}`, fix: failure.fix };
}

import type { DiagLogger } from '@opentelemetry/api';
import { sql, type Kysely } from 'kysely';
import { describeError } from '../src/support/diag.js';
import { CONNECTED_ROLE_SQL, connectedRoleWarning, parseConnectedRole } from '../database/connected-role.js';

/**
 * Warns when the connection is a superuser or owns the log tables, which the exporter never
 * needs. One catalog query; its failure is only a debug message, never a failed write.
 */
export async function checkConnectedRole(db: Kysely<unknown>, logger: DiagLogger): Promise<void> {
  try {
    const result = await sql.raw(CONNECTED_ROLE_SQL).execute(db);
    const connected = parseConnectedRole(result.rows[0]);
    const warning = connected && connectedRoleWarning(connected);
    if (warning !== undefined) logger.warn(warning);
  } catch (error) {
    logger.debug(`could not check the connected role: ${describeError(error)}`);
  }
}

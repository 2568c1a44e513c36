/** The fix for a schema that is missing, old or incomplete. */
export const MIGRATE_FIX = 'run `otel-pg-analytics migrate` with the owner role';

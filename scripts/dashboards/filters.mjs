// @ts-check
/**
 * The SQL conditions for the variables in variables.mjs, which panels put in their where
 * clause. `'__all' in (...)` is a constant PostgreSQL folds away, so with a real selection only
 * `column in (...)` remains, and it can use the (column, time) index.
 */
export const APP = `('__all' in ($app) or service_name in ($app))`;
export const ENDPOINT = `('__all' in ($endpoint) or endpoint in ($endpoint))`;
export const USER = `('$user' = '' or user_id = '$user')`;
export const STATUS = `('__all' in ($status) or status_class in ($status))`;
export const EVENT_TYPE = `('__all' in ($event_type) or event_type in ($event_type))`;
export const SERVICE = `('__all' in ($service) or service in ($service))`;

// The where clause most panels of each dashboard share.
export const API_WHERE = `$__timeFilter(time) and ${APP} and ${ENDPOINT} and ${USER}`;
export const AUTH_WHERE = `$__timeFilter(time) and ${APP} and ${EVENT_TYPE}`;
export const EXT_WHERE = `$__timeFilter(time) and ${SERVICE} and ${USER}`;

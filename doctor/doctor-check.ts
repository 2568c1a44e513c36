/** How a check came out: `fail` means the pipeline cannot work until it is fixed. */
export type DoctorStatus = 'ok' | 'warn' | 'fail';

/** The checks `doctor` runs; `pipeline` may appear once per exporter process. */
export type DoctorCheckName =
  | 'connection'
  | 'schema-version'
  | 'tables'
  | 'layout'
  | 'rollups'
  | 'privileges'
  | 'role'
  | 'pipeline'
  | 'spool';

/** One finding of `doctor`. */
export interface DoctorCheck {
  check: DoctorCheckName;
  status: DoctorStatus;
  /** What was found. Never contains the connection string's password. */
  message: string;
  /** What to do about it (for `warn` and `fail`). */
  fix?: string;
}

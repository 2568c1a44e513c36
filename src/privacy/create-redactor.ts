import type { UserIdMode } from './privacy-policy.js';
import { Redactor } from './redactor.js';

/** The options a redactor is made from, as a resolved configuration holds them. */
export interface RedactionOptions {
  readonly redactKeys: readonly string[];
  readonly userIdMode: UserIdMode;
  readonly hmacKey?: string | undefined;
}

/**
 * The redactor of a resolved configuration (the package's or the exporter's): its extra
 * sensitive names and its privacy options, so every piece redacts alike.
 */
export function createRedactor(options: RedactionOptions): Redactor {
  return new Redactor({
    extraKeys: options.redactKeys,
    userIdMode: options.userIdMode,
    hmacKey: options.hmacKey,
  });
}

import { loadConfigFile } from '../src/config-file.js';
import { resolveConfig } from '../src/config.js';
import type { EnvSnapshot } from '../src/env.js';
import { isPostgresUrl } from '../src/support/postgres-url.js';

/**
 * The database a command works on: `--database-url`, else the configuration's (env vars, then
 * `OTEL_ANALYTICS_CONFIG`). Without a usable one it says so on stderr, naming the command, and
 * returns `undefined` (the command then exits 2).
 */
export async function databaseUrlOf(
  command: string,
  given: string | undefined,
  env: EnvSnapshot,
): Promise<string | undefined> {
  const url =
    given ?? resolveConfig({}, { env, file: await loadConfigFile(env.OTEL_ANALYTICS_CONFIG) }).databaseUrl;
  if (url !== undefined && isPostgresUrl(url)) return url;
  process.stderr.write(
    url === undefined
      ? `otel-pg-analytics ${command}: set OTEL_ANALYTICS_DATABASE_URL or pass --database-url\n`
      : `otel-pg-analytics ${command}: --database-url must be a postgres:// or postgresql:// URL\n`,
  );
  return undefined;
}

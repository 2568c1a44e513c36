import type { TestProject } from 'vitest/node';
import { canConnect, startEmbeddedPostgres } from '../../dev/embedded-postgres.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection string; each test file creates its own database through it. */
    adminDatabaseUrl: string;
  }
}

/** Uses the local PostgreSQL if one answers, else starts an embedded one for the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const local = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (await canConnect(local)) {
    project.provide('adminDatabaseUrl', local);
    return async () => {};
  }
  const embedded = await startEmbeddedPostgres();
  project.provide('adminDatabaseUrl', embedded.url);
  return embedded.stop;
}

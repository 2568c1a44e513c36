import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApp } from '../../helpers/app-process.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';
import { FAKE_KEYS, startLlmStub, type StubRequest } from './llm-stub.js';

/**
 * Attempts in the order they were made. A span's start time has millisecond precision, so a
 * retry can start in the same millisecond as the attempt it retries: within one millisecond the
 * failed attempts come first, since a call retries until its last attempt succeeds.
 */
export const ATTEMPT_ORDER = 'time, (status_code between 200 and 299), span_id';

/** A row of `external_api_call_log`, numbers as Postgres returns them. */
export interface CallRow {
  trace_id: string;
  user_id: string | null;
  service: string;
  endpoint: string;
  method: string;
  status_code: number | null;
  cost_estimate: string | null;
  request_size: string | null;
  response_size: string | null;
  error_message: string | null;
  metadata: Record<string, unknown>;
}

/** What one app run left behind. */
export interface CallAppRun {
  /** By the call's parameter values joined with spaces (`openai-chat plain`): what the app answered. */
  answers: Map<string, { status: number; body: Record<string, unknown> }>;
  /** Every external call row, by time. */
  rows: CallRow[];
  /** `api_access_log` rows: path with query, status, user. */
  requests: { path: string; status_code: number; user_id: string | null }[];
  /** The stub's base URL, and what it received. */
  stubUrl: string;
  stubRequests: StubRequest[];
  /** Each table's rows as text (every column), for searching. */
  tableText: Record<string, string>;
  stdout: string;
  stderr: string;
  db: TestDatabase;
}

/** The query parameters of one `GET /call` (`{ sdk: 'openai-chat', mode: 'plain' }`). */
export type AppCall = Readonly<Record<string, string>>;

/**
 * Starts `script` (an app serving `GET /call?...`, whose handlers call the stub at `STUB_URL`)
 * under the register entry (unless `register: false`), against the stub and a database of its
 * own; makes `calls` one after another, stops the app (flushing its rows) and returns what it
 * recorded. The caller drops `db`.
 */
export async function runCallApp(
  label: string,
  script: string,
  calls: readonly AppCall[],
  options: { register?: boolean; env?: Record<string, string> } = {},
): Promise<CallAppRun> {
  const db = await createTestDatabase(label, { writer: true });
  const stub = await startLlmStub();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-call-app-'));
  try {
    const configFile = path.join(dir, 'analytics.json');
    writeFileSync(configFile, JSON.stringify({ services: stub.services() }));
    const app = await startApp(script, {
      register: options.register,
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.writerUrl,
        OTEL_ANALYTICS_CONFIG: configFile,
        STUB_SERVICES: JSON.stringify(stub.services()),
        STUB_URL: stub.url,
        FAKE_KEYS: JSON.stringify(FAKE_KEYS),
        ...options.env,
      },
    });
    const answers: CallAppRun['answers'] = new Map();
    try {
      for (const call of calls) {
        const response = await fetch(`${app.url}/call?${new URLSearchParams(call).toString()}`);
        answers.set(Object.values(call).join(' '), {
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
        });
      }
    } finally {
      await app.stop();
    }
    const rows = await db.query<CallRow & Record<string, unknown>>(
      `select trace_id, user_id, service, endpoint, method, status_code, cost_estimate::text,
              request_size::text, response_size::text, error_message, metadata
         from external_api_call_log order by ${ATTEMPT_ORDER}`,
    );
    const requests = await db.query<{ path: string; status_code: number; user_id: string | null }>(
      `select path || coalesce('?' || (select string_agg(key || '=' || value, '&' order by key)
                                         from jsonb_each_text(query_params)), '') as path,
              status_code, user_id
         from api_access_log order by time, span_id`,
    );
    const tableText: Record<string, string> = {};
    for (const table of ['api_access_log', 'authentication_log', 'external_api_call_log']) {
      const text = await db.query<{ t: string }>(`select t::text from ${table} t`);
      tableText[table] = text.map((r) => r.t).join('\n');
    }
    return {
      answers,
      rows,
      requests,
      stubUrl: stub.url,
      stubRequests: [...stub.requests],
      tableText,
      stdout: app.stdout(),
      stderr: app.stderr(),
      db,
    };
  } catch (error) {
    await db.drop();
    throw error;
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

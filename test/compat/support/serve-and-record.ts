import { startApp, type StartAppOptions } from '../../helpers/app-process.js';
import { createTestDatabase } from '../../helpers/test-database.js';

/** One request the compatibility suite sends to an app, in order. */
export interface CompatRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the client saw, to compare with the rows. */
export interface CompatAnswer {
  request: CompatRequest;
  status: number;
  body: string;
}

/** The columns of `api_access_log` the suite checks, one object per row, in request order. */
export interface ApiRowSeen {
  method: string;
  path: string;
  endpoint: string;
  status_code: number | null;
  error_message: string | null;
  user_id: string | null;
}

export interface ServeAndRecordResult {
  answers: CompatAnswer[];
  rows: ApiRowSeen[];
  /** What the app printed, for a test that asserts what it checked about itself. */
  stdout: string;
  /** The app's stderr, for a test that asserts nothing leaked there. */
  stderr: string;
  /** Runs a query on the app's database (dropped when the test file ends: see `drop`). */
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/**
 * Each request carries its index in this header, captured on its row: requests sent one after
 * another can start in the same millisecond (a root span's start time has millisecond
 * precision), so rows are put in request order by it, not by time.
 */
const SEQ_HEADER = 'x-compat-seq';

/** `order by` for rows in the order their requests were sent. */
export const SEQ_ORDER = `(metadata->'headers'->'${SEQ_HEADER}'->>0)::int`;

/**
 * Starts `script` under the register entry as users start their apps, against a database of its
 * own, sends `requests` one after another, stops the app (SIGTERM flushes its rows) and returns
 * what the client saw beside the API rows, in the order the requests were sent.
 */
export async function serveAndRecord(
  label: string,
  script: string,
  requests: readonly CompatRequest[],
  options: StartAppOptions = {},
): Promise<ServeAndRecordResult> {
  const db = await createTestDatabase(label);
  try {
    const app = await startApp(script, {
      ...options,
      env: {
        OTEL_ANALYTICS_DATABASE_URL: db.url,
        OTEL_ANALYTICS_CAPTURE_HEADERS: SEQ_HEADER,
        ...options.env,
      },
    });
    const answers: CompatAnswer[] = [];
    try {
      for (const [seq, request] of requests.entries()) {
        const response = await fetch(app.url + request.path, {
          method: request.method ?? 'GET',
          headers: { ...request.headers, [SEQ_HEADER]: String(seq) },
          body: request.body,
        });
        answers.push({ request, status: response.status, body: await response.text() });
      }
    } finally {
      await app.stop();
    }
    const rows = await db.query<ApiRowSeen & Record<string, unknown>>(
      `select method, path, endpoint, status_code, error_message, user_id
         from api_access_log order by ${SEQ_ORDER}`,
    );
    return {
      answers,
      rows,
      stdout: app.stdout(),
      stderr: app.stderr(),
      query: async <R>(sql: string, values?: unknown[]) => (await db.query(sql, values)) as R[],
      drop: () => db.drop(),
    };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

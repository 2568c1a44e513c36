import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  serveAndRecord,
  type ApiRowSeen,
  type CompatRequest,
  type ServeAndRecordResult,
} from './serve-and-record.js';

/** The columns of a row that depend on what the app did with the request. */
export type RowOutcome = Pick<ApiRowSeen, 'endpoint' | 'error_message' | 'user_id'>;

/** A request, the status the client gets, and what its row must say. */
export interface CompatCase {
  request: CompatRequest;
  status: number;
  row: RowOutcome;
  /** Whether the endpoint is the framework's route template (not a normalized path). */
  routed: boolean;
}

/** A request the framework routes to `endpoint`; no error, no user unless given. */
export function routedCase(
  request: CompatRequest,
  status: number,
  endpoint: string,
  row: Partial<RowOutcome> = {},
): CompatCase {
  return { request, status, row: { endpoint, error_message: null, user_id: null, ...row }, routed: true };
}

/** A request no route served: its endpoint is what the exporter makes of the path. */
export function unroutedCase(request: CompatRequest, status: number, endpoint: string): CompatCase {
  return { request, status, row: { endpoint, error_message: null, user_id: null }, routed: false };
}

/**
 * Starts `script` once under the register entry, sends every case's request in order, and
 * checks the answers and the rows (one per request, column by column, in order).
 */
export function describeCompatApp(label: string, script: string, cases: readonly CompatCase[]): void {
  describe(`${label} under the register entry`, () => {
    let result: ServeAndRecordResult;

    beforeAll(async () => {
      result = await serveAndRecord(
        label,
        script,
        cases.map((c) => c.request),
      );
    });

    afterAll(async () => {
      await result?.drop();
    });

    it('answers every request as the app means to', () => {
      expect(result.answers.map((a) => `${a.request.method ?? 'GET'} ${a.request.path} ${a.status}`)).toEqual(
        cases.map((c) => `${c.request.method ?? 'GET'} ${c.request.path} ${c.status}`),
      );
    });

    it('records one row per request: route template, status, thrown message and user', () => {
      expect(result.rows).toEqual(
        cases.map((c) => ({
          method: c.request.method ?? 'GET',
          path: c.request.path.split('?')[0],
          status_code: c.status,
          ...c.row,
        })),
      );
    });

    it('takes routed endpoints from the framework, not from the path', async () => {
      const sources = await result.query<{ path: string; method: string; source: string | null }>(
        `select path, method, metadata->>'endpoint_source' as source from api_access_log order by time, span_id`,
      );
      expect(sources.map((s) => `${s.method} ${s.path} ${s.source === null ? 'route' : 'path'}`)).toEqual(
        cases.map(
          (c) =>
            `${c.request.method ?? 'GET'} ${c.request.path.split('?')[0]} ${c.routed ? 'route' : 'path'}`,
        ),
      );
    });
  });
}

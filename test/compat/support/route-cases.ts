import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEQ_ORDER,
  serveAndRecord,
  type CompatRequest,
  type ServeAndRecordResult,
} from './serve-and-record.js';

/** A request of a framework suite, the status the app answers, and the row it must leave. */
export interface RouteCase {
  request: CompatRequest;
  status: number;
  /** The route template, or for a request no route answered what the exporter makes of its path. */
  endpoint: string;
  /** Whether `endpoint` comes from the framework (no `metadata.endpoint_source`). */
  routed: boolean;
  error_message: string | null;
  user_id: string | null;
}

/** A request the framework routes to `template`; no error and no user unless given. */
export function routed(
  request: CompatRequest,
  status: number,
  template: string,
  extra: { error_message?: string; user_id?: string } = {},
): RouteCase {
  return { request, status, endpoint: template, routed: true, error_message: null, user_id: null, ...extra };
}

/** A request no route answered: no template, no error. */
export function unrouted(request: CompatRequest, status: number, endpoint: string): RouteCase {
  return { request, status, endpoint, routed: false, error_message: null, user_id: null };
}

function label(request: CompatRequest): string {
  return `${request.method ?? 'GET'} ${request.path}`;
}

/**
 * Runs `script` once under the register entry (`serveAndRecord`), sends the cases' requests in
 * order and checks the answers, then the rows column by column: one row per request; and, if
 * given, the `printed` lines among what the app wrote to stdout (what it checked about itself).
 */
export function describeRouteCases(
  name: string,
  script: string,
  cases: readonly RouteCase[],
  options: { printed?: readonly string[] } = {},
): void {
  describe(name, () => {
    let result: ServeAndRecordResult;

    beforeAll(async () => {
      result = await serveAndRecord(
        name,
        script,
        cases.map((c) => c.request),
      );
    }, 60_000);

    afterAll(async () => {
      await result?.drop();
    });

    it('answers every request as the app means to', () => {
      expect(result.answers.map((a) => `${label(a.request)} ${a.status}`)).toEqual(
        cases.map((c) => `${label(c.request)} ${c.status}`),
      );
    });

    it('leaves one row per request: method, path, template, status, thrown message, user', () => {
      expect(result.rows).toEqual(
        cases.map((c) => ({
          method: c.request.method ?? 'GET',
          path: c.request.path.split('?')[0],
          endpoint: c.endpoint,
          status_code: c.status,
          error_message: c.error_message,
          user_id: c.user_id,
        })),
      );
    });

    if (options.printed) {
      const printed = options.printed;
      it('prints what the app checked about itself', () => {
        const lines = result.stdout.split('\n');
        expect(printed.filter((line) => !lines.includes(line))).toEqual([]);
      });
    }

    it('takes the endpoints of routed requests from the framework, not from their paths', async () => {
      const rows = await result.query<{ method: string; path: string; source: string | null }>(
        `select method, path, metadata->>'endpoint_source' as source
           from api_access_log order by ${SEQ_ORDER}`,
      );
      expect(rows.map((r) => `${r.method} ${r.path} ${r.source === null ? 'route' : 'path'}`)).toEqual(
        cases.map(
          (c) =>
            `${c.request.method ?? 'GET'} ${c.request.path.split('?')[0]} ${c.routed ? 'route' : 'path'}`,
        ),
      );
    });
  });
}

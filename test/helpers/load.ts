import http from 'node:http';

/** What a load run got back. */
export interface LoadResult {
  /** Requests answered 200, by path. */
  served: Record<string, number>;
  /** Requests that failed or were answered otherwise. */
  failed: number;
  /** Slowest answer, in ms. */
  maxLatencyMillis: number;
}

/** A running load; `stop()` waits for the requests in flight. */
export interface Load {
  stop(): Promise<LoadResult>;
}

/**
 * Sends requests to `baseUrl` from `concurrency` keep-alive loops until stopped: `GET /work`,
 * and every tenth request `POST /login` (an auth event). `pauseMillis` between a loop's
 * requests sets the pace.
 */
export function startLoad(
  baseUrl: string,
  options: { concurrency?: number; pauseMillis?: number } = {},
): Load {
  const concurrency = options.concurrency ?? 4;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { served: {}, failed: 0, maxLatencyMillis: 0 };
  let running = true;
  let sent = 0;

  const once = (method: string, path: string): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const request = http.request(new URL(path, baseUrl), { method, agent }, (response) => {
        response.resume();
        response.on('end', () => {
          result.maxLatencyMillis = Math.max(result.maxLatencyMillis, performance.now() - started);
          if (response.statusCode === 200) result.served[path] = (result.served[path] ?? 0) + 1;
          else result.failed++;
          resolve();
        });
      });
      request.on('error', () => {
        result.failed++;
        resolve();
      });
      request.end();
    });

  const loop = async (): Promise<void> => {
    while (running) {
      sent++;
      await (sent % 10 === 0 ? once('POST', '/login') : once('GET', '/work'));
      if (options.pauseMillis) await new Promise((resolve) => setTimeout(resolve, options.pauseMillis));
    }
  };
  const loops = Array.from({ length: concurrency }, loop);

  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

// autocannon ships no types of its own: the part of its API the benchmarks use.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Options {
    url: string;
    method?: string;
    body?: string | undefined;
    headers?: Record<string, string> | undefined;
    /** Sent in turn by each connection, instead of the one request above. */
    requests?: { method: string; path: string; body?: string; headers?: Record<string, string> }[];
    connections?: number;
    /** Requests to send in all (else `duration` seconds). */
    amount?: number;
    duration?: number;
  }

  export interface Result {
    requests: { average: number };
    errors: number;
    non2xx: number;
    '2xx': number;
  }

  function autocannon(
    options: Options,
    callback: (error: Error | null, result: Result) => void,
  ): EventEmitter;
  export default autocannon;
}

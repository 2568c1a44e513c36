// The latency phase: requests sent at a fixed rate (not as fast as answered), so a mode's
// latency is compared at the same moderate load; each request's time in ms.
import http from 'node:http';

/**
 * Requests at a fixed rate over keep-alive connections, cycling through `requests`; p50 and p99
 * of those answered 200, in ms.
 * @param {string} url
 * @param {import('./harness.mjs').BenchRequest[]} requests
 * @param {{ rate: number, seconds: number, connections: number }} options
 */
export async function fixedRate(url, requests, { rate, seconds, connections }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  /** @type {number[]} */
  const latencies = [];
  let failed = 0;
  const total = rate * seconds;
  const started = performance.now();
  /** @type {Promise<void>[]} */
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const request = /** @type {import('./harness.mjs').BenchRequest} */ (requests[i % requests.length]);
    pending.push(
      new Promise((resolve) => {
        const t0 = performance.now();
        const req = http.request(
          `${url}${request.path}`,
          { method: request.method, headers: request.headers, agent },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) latencies.push(performance.now() - t0);
              else failed++;
              resolve();
            });
          },
        );
        req.on('error', () => {
          failed++;
          resolve();
        });
        req.end(request.body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (/** @type {number} */ q) =>
    /** @type {number} */ (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  return { p50: at(0.5), p99: at(0.99), sent: total, ok: latencies.length, failed };
}

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../admin/migrate.js';

const run = promisify(execFile);

/**
 * stopServing() patches the `http`/`https` servers of the whole process, so it runs in a child
 * process of its own, never in the test worker.
 */
const SCRIPT = `
import http from 'node:http';
import { stopServing } from ${JSON.stringify(path.join(packageRoot(), 'dist/src/lifecycle/stop-serving.js'))};
const server = http.createServer((req, res) => res.end('answered'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
await stopServing();
const results = {};
// An adapter that emits requests of its own: no socket, a socket without destroy, one that throws.
for (const [name, request] of Object.entries({
  none: {},
  plain: { socket: {} },
  throwing: { socket: { destroy() { throw new Error('boom'); } } },
})) {
  try {
    results[name] = server.emit('request', request, {});
  } catch (error) {
    results[name] = 'threw ' + error.message;
  }
}
// A real client gets no answer.
results.client = await new Promise((resolve) => {
  http.get('http://127.0.0.1:' + server.address().port + '/', (res) => resolve(res.statusCode))
    .on('error', (error) => resolve(error.code));
});
console.log(JSON.stringify(results));
process.exit(0);
`;

describe('stopServing', () => {
  it('refuses requests emitted without a usable socket without throwing at the emitter, and real clients get no answer', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({ none: true, plain: true, throwing: true, client: 'ECONNRESET' });
  });
});

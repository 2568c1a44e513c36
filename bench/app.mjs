// The app every mode serves: GET /hello, POST /json (reads and echoes a JSON body),
// GET /call (one outbound fetch to the stub at STUB_URL). It reports nothing itself: the
// benchmark reads its CPU and memory from /proc.
import http from 'node:http';

const stub = process.env.STUB_URL;
/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function handle(req, res) {
  if (req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello');
  } else if (req.url === '/json' && req.method === 'POST') {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, items: body.items.length }));
  } else if (req.url === '/call') {
    const response = await fetch(`${stub}/data`);
    const text = await response.text();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(text);
  } else {
    res.writeHead(404);
    res.end();
  }
}

const server = http.createServer((req, res) => void handle(req, res));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `listening on http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`,
  );
});

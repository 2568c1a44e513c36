// A Hono app on the `hono/tiny` preset (PatternRouter), served by @hono/node-server.
import { serve } from '@hono/node-server';
import { Hono } from 'hono/tiny';

const app = new Hono();
app.get('/users/:userId', (c) => c.json({ id: c.req.param('userId') }));
app.get('/boom', () => {
  throw new Error('hono tiny: ledger write failed');
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
});

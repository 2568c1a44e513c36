'use strict';
// A Hono app on the `hono/quick` preset (LinearRouter), as CommonJS.
const { serve } = require('@hono/node-server');
const { Hono } = require('hono/quick');

const app = new Hono();
app.get('/users/:userId', (c) => c.json({ id: c.req.param('userId') }));
app.get('/boom', () => {
  throw new Error('hono quick: ledger write failed');
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
});

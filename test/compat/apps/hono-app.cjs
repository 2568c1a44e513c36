'use strict';
// The Hono suite's app as CommonJS (Hono's own CommonJS build; @hono/node-server through
// require() of its ES module).
const { serve } = require('@hono/node-server');
const { Hono } = require('hono');
const { cors } = require('hono/cors');
const { HTTPException } = require('hono/http-exception');
const { setUser } = require('otel-pg-analytics');
const { buildHonoApp, listen } = require('./hono-routes.cjs');

listen(serve, buildHonoApp({ createApp: () => new Hono(), HTTPException, cors, setUser }));

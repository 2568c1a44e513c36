'use strict';
// The Hono suite's app as CommonJS, every app and sub-app made by hono/factory's createApp
// (which requires Hono's class from its own file, not from 'hono'). Prints whether the app is
// still an instance of the Hono it required.
const { serve } = require('@hono/node-server');
const { Hono } = require('hono');
const { cors } = require('hono/cors');
const { createFactory } = require('hono/factory');
const { HTTPException } = require('hono/http-exception');
const { setUser } = require('otel-pg-analytics');
const { buildHonoApp, listen } = require('./hono-routes.cjs');

const factory = createFactory();
const app = buildHonoApp({ createApp: () => factory.createApp(), HTTPException, cors, setUser });
process.stdout.write(`app instanceof Hono: ${app instanceof Hono}\n`);
listen(serve, app);

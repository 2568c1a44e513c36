'use strict';
// The hapi suite's app as CommonJS, as most hapi apps are.
const Boom = require('@hapi/boom');
const Hapi = require('@hapi/hapi');
const { setUser } = require('otel-pg-analytics');
const { buildHapiServer, start } = require('./hapi-routes.cjs');

buildHapiServer({ createServer: (options) => Hapi.server(options), Boom, setUser }).then(start);

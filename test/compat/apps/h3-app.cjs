'use strict';
// The h3 suite's app as CommonJS: h3 2 is an ES module, loaded here through require().
const { H3, HTTPError, handleCors, serve } = require('h3');
const { setUser } = require('otel-pg-analytics');
const { buildH3App, listen } = require('./h3-routes.cjs');

void listen(serve, buildH3App({ H3, HTTPError, handleCors, setUser }));

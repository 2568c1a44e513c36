'use strict';
// The Koa suite's app as CommonJS, as many Koa apps still are: everything through `require`.
const Router = require('@koa/router');
const Koa = require('koa');
const { setUser } = require('otel-pg-analytics');
const { buildKoaApp, listen } = require('./koa-routes.cjs');

listen(buildKoaApp({ Koa, Router, setUser }));

// The Koa suite's app as an ES module: Koa and @koa/router come in through `import`.
import Router from '@koa/router';
import Koa from 'koa';
import { setUser } from 'otel-pg-analytics';
import { buildKoaApp, listen } from './koa-routes.cjs';

listen(buildKoaApp({ Koa, Router, setUser }));

// The Hono suite's app as an ES module, served by @hono/node-server.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { setUser } from 'otel-pg-analytics';
import { buildHonoApp, listen } from './hono-routes.cjs';

listen(serve, buildHonoApp({ createApp: () => new Hono(), HTTPException, cors, setUser }));

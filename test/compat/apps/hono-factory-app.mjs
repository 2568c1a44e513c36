// The Hono suite's app as an ES module, every app and sub-app made by hono/factory's
// createApp (which imports Hono's class from its own file, not from 'hono'), served by
// @hono/node-server. Prints whether the app is still an instance of the Hono it imported.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { createFactory } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { setUser } from 'otel-pg-analytics';
import { buildHonoApp, listen } from './hono-routes.cjs';

const factory = createFactory();
const app = buildHonoApp({ createApp: () => factory.createApp(), HTTPException, cors, setUser });
process.stdout.write(`app instanceof Hono: ${app instanceof Hono}\n`);
listen(serve, app);

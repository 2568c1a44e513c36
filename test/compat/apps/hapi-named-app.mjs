// The hapi suite's app as an ES module importing `Server` by name (`new Server()`).
import Boom from '@hapi/boom';
import { Server } from '@hapi/hapi';
import { setUser } from 'otel-pg-analytics';
import { buildHapiServer, start } from './hapi-routes.cjs';

await start(await buildHapiServer({ createServer: (options) => new Server(options), Boom, setUser }));

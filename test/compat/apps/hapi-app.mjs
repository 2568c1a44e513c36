// The hapi suite's app as an ES module, with hapi's default export (`Hapi.server()`).
import Boom from '@hapi/boom';
import Hapi from '@hapi/hapi';
import { setUser } from 'otel-pg-analytics';
import { buildHapiServer, start } from './hapi-routes.cjs';

await start(await buildHapiServer({ createServer: (options) => Hapi.server(options), Boom, setUser }));

import { ExpressRouteInstrumentation } from './express-route-instrumentation.js';
import type { FrameworkSupport } from './framework-support.js';

/**
 * Express 4 and 5: the route template is read from the request as its response ends
 * (`req.route`, placed under the paths its routers and apps were mounted at), and what
 * handlers throw or pass to `next()` is kept on the request where Express handles an error.
 * No spans, and nothing done per middleware.
 */
export const expressSupport: FrameworkSupport = {
  name: 'Express',
  requires: 'express',
  hookedModules: ['express'],
  createInstrumentations: () => [new ExpressRouteInstrumentation({ enabled: false })],
};

import { createRequire } from 'node:module';
import type { ExpressInstrumentation as ExpressInstrumentationClass } from '@opentelemetry/instrumentation-express';
import { keepMatchedExpressRoute } from './express-route-hook.js';
import type { FrameworkSupport } from './framework-support.js';

const require = createRequire(import.meta.url);

/**
 * Express 4 and 5: `@opentelemetry/instrumentation-express` supplies the route template (nested
 * routers and their mount paths included) and records what handlers throw or pass to `next()`
 * on its layer spans, where the processor finds the request's error; `keepMatchedExpressRoute`
 * keeps the template to routes the request reached.
 */
export const expressSupport: FrameworkSupport = {
  name: 'Express',
  requires: 'express',
  hookedModules: ['express'],
  createInstrumentations() {
    // Loaded only when needed; the instrumentation ships CommonJS, so require() keeps this sync.
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as {
      ExpressInstrumentation: typeof ExpressInstrumentationClass;
    };
    return [new ExpressInstrumentation({ enabled: false, requestHook: keepMatchedExpressRoute })];
  },
};

import type { FrameworkSupport } from './framework-support.js';
import { HapiRouteInstrumentation } from './hapi-route-instrumentation.js';

/** hapi: route templates and thrown errors. */
export const hapiSupport: FrameworkSupport = {
  name: 'hapi',
  requires: '@hapi/hapi',
  hookedModules: ['@hapi/hapi'],
  createInstrumentations: () => [new HapiRouteInstrumentation({ enabled: false })],
};

import type { FrameworkSupport } from './framework-support.js';
import { H3RouteInstrumentation } from './h3-route-instrumentation.js';

/** h3 2: route templates and thrown errors. */
export const h3Support: FrameworkSupport = {
  name: 'h3',
  requires: 'h3',
  hookedModules: ['h3'],
  createInstrumentations: () => [new H3RouteInstrumentation({ enabled: false })],
};

import type { FrameworkSupport } from './framework-support.js';
import { HonoRouteInstrumentation } from './hono-route-instrumentation.js';

/** Hono: route templates and thrown errors. */
export const honoSupport: FrameworkSupport = {
  name: 'Hono',
  requires: 'hono',
  hookedModules: ['hono', 'hono/tiny', 'hono/quick'],
  createInstrumentations: () => [new HonoRouteInstrumentation({ enabled: false })],
};

import type { FrameworkSupport } from './framework-support.js';
import { HonoRouteInstrumentation } from './hono-route-instrumentation.js';

/** Hono: route templates and thrown errors. */
export const honoSupport: FrameworkSupport = {
  name: 'Hono',
  requires: 'hono',
  // The files that define Hono's routers (ES module build), which Hono imports by relative
  // paths: the loader hook matches those only by URL, here any copy of Hono's.
  hookedModules: [/\/hono\/dist\/router\/[a-z-]+\/router\.js$/],
  createInstrumentations: () => [new HonoRouteInstrumentation({ enabled: false })],
};

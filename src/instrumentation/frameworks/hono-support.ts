import type { FrameworkSupport } from './framework-support.js';

/** Hono: route templates and thrown errors. */
export const honoSupport: FrameworkSupport = {
  name: 'Hono',
  requires: 'hono',
  hookedModules: [],
  createInstrumentations: () => [],
};

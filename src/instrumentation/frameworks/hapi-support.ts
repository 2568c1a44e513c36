import type { FrameworkSupport } from './framework-support.js';

/** hapi: route templates and thrown errors. */
export const hapiSupport: FrameworkSupport = {
  name: 'hapi',
  requires: '@hapi/hapi',
  hookedModules: [],
  createInstrumentations: () => [],
};

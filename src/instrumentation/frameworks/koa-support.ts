import type { FrameworkSupport } from './framework-support.js';

/** Koa: route templates and thrown errors. */
export const koaSupport: FrameworkSupport = {
  name: 'Koa',
  requires: 'koa',
  hookedModules: [],
  createInstrumentations: () => [],
};

import type { FrameworkSupport } from './framework-support.js';

/** h3: route templates and thrown errors. */
export const h3Support: FrameworkSupport = {
  name: 'h3',
  requires: 'h3',
  hookedModules: [],
  createInstrumentations: () => [],
};

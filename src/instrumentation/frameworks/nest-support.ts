import type { FrameworkSupport } from './framework-support.js';

/** NestJS: route templates and thrown errors. */
export const nestSupport: FrameworkSupport = {
  name: 'NestJS',
  requires: '@nestjs/core',
  hookedModules: [],
  createInstrumentations: () => [],
};

import type { FrameworkSupport } from './framework-support.js';

/** Fastify: route templates and thrown errors. */
export const fastifySupport: FrameworkSupport = {
  name: 'Fastify',
  hookedModules: [],
  createInstrumentations: () => [],
};

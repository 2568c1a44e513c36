import { FastifyRouteInstrumentation } from './fastify-route-instrumentation.js';
import type { FrameworkSupport } from './framework-support.js';

/**
 * Fastify 4 and 5 (Nest's Fastify adapter included): hooks given to each instance as it is
 * created, through the `fastify.initialization` diagnostics channel. Nothing to load or wrap,
 * and nothing happens until an instance is created, so no package is required.
 */
export const fastifySupport: FrameworkSupport = {
  name: 'Fastify',
  hookedModules: [],
  createInstrumentations: () => [new FastifyRouteInstrumentation({ enabled: false })],
};

import type { FrameworkSupport } from './framework-support.js';
import { KoaRouteInstrumentation } from './koa-route-instrumentation.js';

/** Koa with `@koa/router` (or `koa-router`): route templates and thrown errors. */
export const koaSupport: FrameworkSupport = {
  name: 'Koa',
  requires: 'koa',
  hookedModules: ['koa', '@koa/router', 'koa-router'],
  createInstrumentations: () => [new KoaRouteInstrumentation({ enabled: false })],
};

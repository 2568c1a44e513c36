import { expressSupport } from './express-support.js';
import { fastifySupport } from './fastify-support.js';
import type { FrameworkSupport } from './framework-support.js';
import { h3Support } from './h3-support.js';
import { hapiSupport } from './hapi-support.js';
import { honoSupport } from './hono-support.js';
import { koaSupport } from './koa-support.js';
import { nestSupport } from './nest-support.js';

/** Every framework whose routes and errors are learned without an app change. */
export const SUPPORTED_FRAMEWORKS: readonly FrameworkSupport[] = [
  expressSupport,
  fastifySupport,
  nestSupport,
  koaSupport,
  hapiSupport,
  honoSupport,
  h3Support,
];

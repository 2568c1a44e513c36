// NestJS on @nestjs/platform-fastify (Fastify 5), under the register entry.
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { serveNestApp } from './nest-app.mjs';

await serveNestApp(new FastifyAdapter());

// Fastify 5 (the root's) with @fastify/cors, under the register entry.
import cors from '@fastify/cors';
import Fastify from 'fastify';
import { setUser } from 'otel-pg-analytics';
import { buildFastifyApp, serve } from './fastify-app.mjs';

await serve(await buildFastifyApp(Fastify, { setUser, registerCors: (app) => app.register(cors) }));

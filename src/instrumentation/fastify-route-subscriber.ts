import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { context } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { activeRedactor } from '../internal/active-pipeline.js';
import { noteRequestError } from '../internal/request-state.js';
import { safeExecute } from '../internal/safe-execute.js';

const HANDLER_START = 'tracing:fastify.request.handler:start';
const HANDLER_ERROR = 'tracing:fastify.request.handler:error';

interface HandlerMessage {
  route?: { url?: unknown };
  error?: unknown;
}

function onHandlerStart(message: unknown): void {
  safeExecute(
    'fastify route',
    () => {
      const url = (message as HandlerMessage).route?.url;
      const metadata = getRPCMetadata(context.active());
      if (metadata && typeof url === 'string') metadata.route = url;
    },
    undefined,
  );
}

function onHandlerError(message: unknown): void {
  safeExecute(
    'fastify error',
    () => {
      const error = (message as HandlerMessage).error;
      if (error instanceof Error) noteRequestError(context.active(), error.message, activeRedactor());
    },
    undefined,
  );
}

/**
 * Fastify 5 publishes each route handler's start (with the route template) and errors on
 * diagnostics channels. Fastify's own OpenTelemetry instrumentation is still on the 2.x SDK
 * line, so the route is taken from there instead: it becomes `http.route` through the
 * request's RPC metadata, exactly as a framework instrumentation would set it.
 * Returns a function that unsubscribes.
 */
export function subscribeFastifyRoutes(): () => void {
  subscribe(HANDLER_START, onHandlerStart);
  subscribe(HANDLER_ERROR, onHandlerError);
  return () => {
    unsubscribe(HANDLER_START, onHandlerStart);
    unsubscribe(HANDLER_ERROR, onHandlerError);
  };
}

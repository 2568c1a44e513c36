import { pathToFileURL } from 'node:url';
import { resolveFromApp } from '../resolve-from-app.js';
import type { FrameworkSupport } from './framework-support.js';
import {
  NEST_EXCEPTIONS_HANDLER_FILE,
  NestExceptionInstrumentation,
} from './nest-exception-instrumentation.js';

let hookedModules: readonly string[] | undefined;

/**
 * NestJS 12 on Express or Fastify: routes come from the adapter's support (global prefix and
 * controller paths are in the templates it registers); thrown messages from Nest's own
 * exception handler.
 */
export const nestSupport: FrameworkSupport = {
  name: 'NestJS',
  requires: '@nestjs/core',
  // Nest 12 is ESM and imports its exception handler by a relative path, which the loader hook
  // matches only by URL: the app's copy, resolved on first use (the register entry's).
  get hookedModules(): readonly string[] {
    return (hookedModules ??= appFileUrls(NEST_EXCEPTIONS_HANDLER_FILE));
  },
  createInstrumentations: () => [new NestExceptionInstrumentation({ enabled: false })],
};

/** The `file:` URL `specifier` resolves to from the app, if it does. */
function appFileUrls(specifier: string): string[] {
  const resolved = resolveFromApp(specifier);
  return resolved === undefined ? [] : [pathToFileURL(resolved).href];
}

import { createRequire } from 'node:module';
import path from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { ExpressInstrumentation as ExpressInstrumentationClass } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { AnalyticsConfig } from '../config.js';
import { createHttpInstrumentationConfig } from './http-instrumentation-config.js';
import { createUndiciInstrumentationConfig } from './undici-instrumentation-config.js';

const require = createRequire(import.meta.url);

/**
 * The instrumentations the register entry starts: http (inbound requests, `http`/`https`
 * clients such as axios) and undici (`fetch`), configured with this package's hooks, plus
 * Express's when the app can load `express` (it supplies the route template).
 *
 * The http and Express instrumentations are created disabled; registering them (NodeSDK does)
 * enables them. Enabled in its constructor, instrumentation-http 0.301 patches an
 * already-loaded `http` before its own `_httpPatched = false` field initializer runs, which
 * then lets the CommonJS require hook patch it a second time: every outbound `http.request`
 * became two spans. (undici's reads `enabled` on every request, so it keeps the default.)
 */
export function createAnalyticsInstrumentations(options: AnalyticsConfig = {}): Instrumentation[] {
  const instrumentations: Instrumentation[] = [
    new HttpInstrumentation({ ...createHttpInstrumentationConfig(options), enabled: false }),
    new UndiciInstrumentation(createUndiciInstrumentationConfig(options)),
  ];
  if (isResolvableFromApp('express')) {
    // Loaded only when needed; the instrumentation ships CommonJS, so require() keeps this sync.
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as {
      ExpressInstrumentation: typeof ExpressInstrumentationClass;
    };
    instrumentations.push(new ExpressInstrumentation({ enabled: false }));
  }
  return instrumentations;
}

/** Whether `specifier` resolves from the app's entry script or working directory. */
export function isResolvableFromApp(specifier: string): boolean {
  const bases = [process.argv[1], path.join(process.cwd(), 'index.js')];
  for (const base of bases) {
    if (!base) continue;
    try {
      createRequire(path.resolve(base)).resolve(specifier);
      return true;
    } catch {
      // Not from here; try the next base.
    }
  }
  return false;
}

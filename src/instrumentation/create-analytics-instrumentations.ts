import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { AnalyticsConfig } from '../config.js';
import { SUPPORTED_FRAMEWORKS } from './frameworks/supported-frameworks.js';
import { createHttpInstrumentationConfig } from './http-instrumentation-config.js';
import { resolveFromApp } from './resolve-from-app.js';
import { createUndiciInstrumentationConfig } from './undici-instrumentation-config.js';

/**
 * The instrumentations the register entry starts: http (inbound requests, `http`/`https`
 * clients such as axios) and undici (`fetch`), configured with this package's hooks, plus
 * those that learn route templates and thrown errors for each supported framework the app can
 * load (`SUPPORTED_FRAMEWORKS`).
 *
 * The http and framework instrumentations are created disabled; registering them (NodeSDK does)
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
  for (const framework of SUPPORTED_FRAMEWORKS) {
    if (framework.requires === undefined || resolveFromApp(framework.requires) !== undefined) {
      instrumentations.push(...framework.createInstrumentations());
    }
  }
  return instrumentations;
}

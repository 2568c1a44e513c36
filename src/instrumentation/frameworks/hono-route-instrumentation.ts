import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { safeExecute } from '../../internal/safe-execute.js';
import { VERSION } from '../../version.js';
import { observeHonoRouter } from './hono-router-observer.js';

type HonoClass = new (...args: unknown[]) => { router?: unknown };

const SUPPORTED_VERSIONS = ['>=4.0.0 <5'];
/** The presets' entry points (`hono/tiny`, `hono/quick`), ES module and CommonJS builds. */
const PRESET_FILES = ['tiny', 'quick'].flatMap((preset) => [
  `hono/dist/preset/${preset}.js`,
  `hono/dist/cjs/preset/${preset}.js`,
]);

/**
 * Hono 4 (on `@hono/node-server` or any server that runs `app.fetch` inside the request):
 * route templates and thrown errors, without spans. The `Hono` export is replaced by a
 * subclass (same name, same behaviour) whose instances have their router observed
 * (`observeHonoRouter`): every handler added from then on, through the app, its `basePath()`
 * copies or sub-apps mounted with `app.route()`, reports the full template when it runs and
 * notes what it throws. Hono keeps no per-request state a hook could read at the end, and its
 * error handler is compared by identity when sub-apps are mounted, so the handlers are where
 * this can be done without changing what the app does.
 *
 * Covers the `hono` entry point and the `hono/tiny` and `hono/quick` presets.
 */
export class HonoRouteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/hono-routes', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const patch = (moduleExports: unknown): unknown => {
      safeExecute('hono patch', () => this.#patch(moduleExports), undefined);
      return moduleExports;
    };
    const unpatch = (moduleExports: unknown): void => {
      const exports = moduleExports as Record<string, unknown> | undefined;
      if ((exports?.Hono as { __wrapped?: true } | undefined)?.__wrapped) this._unwrap(exports!, 'Hono');
    };
    const presets = PRESET_FILES.map(
      (file) => new InstrumentationNodeModuleFile(file, SUPPORTED_VERSIONS, patch, unpatch),
    );
    return [new InstrumentationNodeModuleDefinition('hono', SUPPORTED_VERSIONS, patch, unpatch, presets)];
  }

  #patch(moduleExports: unknown): void {
    const exports = moduleExports as Record<string, unknown> | null | undefined;
    if (typeof exports?.Hono !== 'function') return;
    const isEnabled = (): boolean => this.isEnabled();
    this._wrap(exports, 'Hono', (original) => observedHonoClass(original as HonoClass, isEnabled));
  }
}

function observedHonoClass(Original: HonoClass, isEnabled: () => boolean): HonoClass {
  const Observed = class extends Original {
    constructor(...args: unknown[]) {
      super(...args);
      safeExecute('hono app', () => observeHonoRouter(this.router, isEnabled), undefined);
    }
  };
  Object.defineProperty(Observed, 'name', { value: Original.name });
  return Observed;
}

import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { VERSION } from '../../version.js';
import { exportedPrototype, guardedPatch, unwrapMethods } from './module-exports.js';
import { observedHonoRouterAdd, type RouterAdd } from './observed-hono-router-add.js';

const SUPPORTED_VERSIONS = ['>=4.0.0 <5'];

/** Hono's routers, by the folder of `dist/router/` whose `router.js` defines each. */
const ROUTER_CLASSES: Record<string, string> = {
  'reg-exp-router': 'RegExpRouter',
  'smart-router': 'SmartRouter',
  'trie-router': 'TrieRouter',
  'pattern-router': 'PatternRouter',
  'linear-router': 'LinearRouter',
};

/**
 * Hono 4 (on `@hono/node-server` or any server that runs `app.fetch` inside the request):
 * route templates and thrown errors, without spans. The `add` of each of Hono's router classes
 * is wrapped where the class is defined (`hono/dist/router/<name>/router.js` and its CommonJS
 * twin), so every app's router, however the app was made (`new Hono()`, the `hono/tiny` and
 * `hono/quick` presets, `createFactory().createApp()`, a subclass), observes the handlers added
 * to it (`observedHonoRouterAdd`), and Hono's own classes stay as they are (`instanceof Hono`
 * is unchanged). Hono keeps no per-request state a hook could read at the end, and its error
 * handler is compared by identity when sub-apps are mounted, so the handlers are where this
 * can be done without changing what the app does. An app given a router of its own making
 * (`new Hono({ router })`, not one of Hono's) gets no templates.
 */
export class HonoRouteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-pg-analytics/hono-routes', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const routers = Object.entries(ROUTER_CLASSES).flatMap(([folder, className]) => {
      const patch = guardedPatch('hono patch', (moduleExports) =>
        this.#patch(exportedPrototype(moduleExports, className)),
      );
      const unpatch = (moduleExports: unknown): void =>
        unwrapMethods(exportedPrototype(moduleExports, className), ['add'], this._unwrap);
      return [`hono/dist/router/${folder}/router.js`, `hono/dist/cjs/router/${folder}/router.js`].map(
        (file) => new InstrumentationNodeModuleFile(file, SUPPORTED_VERSIONS, patch, unpatch),
      );
    });
    return [
      new InstrumentationNodeModuleDefinition('hono', SUPPORTED_VERSIONS, undefined, undefined, routers),
    ];
  }

  #patch(prototype: Record<string, unknown> | undefined): void {
    if (typeof prototype?.add !== 'function' || typeof prototype.match !== 'function') return;
    const isEnabled = (): boolean => this.isEnabled();
    this._wrap(prototype, 'add', (original) => observedHonoRouterAdd(original as RouterAdd, isEnabled));
  }
}

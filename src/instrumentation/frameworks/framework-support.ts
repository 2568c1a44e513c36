import type { Instrumentation } from '@opentelemetry/instrumentation';

/**
 * What it takes to learn one web framework's route templates and thrown errors without an app
 * change: the instrumentations (or diagnostics-channel subscriptions wrapped as one) that put
 * the matched route in the request's RPC metadata (it becomes `http.route`) and note the
 * handler's error on the request (`noteRequestError`). They create no spans of their own
 * unless a maintained instrumentation made for the job does.
 */
export interface FrameworkSupport {
  /** The framework, as the README's "Works with" table names it. */
  readonly name: string;
  /**
   * A package the app must be able to resolve for the instrumentations to be created; without
   * it, support is always on (diagnostics channels cost nothing while nobody publishes).
   */
  readonly requires?: string;
  /**
   * Modules the ESM loader hook must wrap so that the instrumentations see `import`s of them:
   * bare specifiers as the app imports them, `file:` URLs, or patterns of URLs.
   */
  readonly hookedModules: readonly (string | RegExp)[];
  /** The instrumentations, created disabled: registering them (NodeSDK does) enables them. */
  createInstrumentations(): Instrumentation[];
}

import { isWrapped } from '@opentelemetry/instrumentation';
import { safeExecute } from '../../support/safe-execute.js';

/**
 * How the framework instrumentations find what to patch in a module, whichever way it was
 * loaded (CommonJS `require`, an ES module's namespace, a CommonJS module imported from ESM),
 * and take their wrappers off again. Structural: the frameworks are the app's.
 */

/**
 * The objects a module's exports are on: `module.exports`, or an ES module's namespace and its
 * default export when that is an object of its own (a CommonJS module imported from ESM has its
 * `module.exports` there). None for anything else.
 */
export function exportObjects(moduleExports: unknown): Record<string, unknown>[] {
  const exports = moduleExports as Record<string, unknown> | null | undefined;
  if (!exports || typeof exports !== 'object') return [];
  const inner = exports.default;
  return inner && typeof inner === 'object' && inner !== exports
    ? [exports, inner as Record<string, unknown>]
    : [exports];
}

/**
 * The prototype of the class `name` a module exports: `module.exports` itself when it is a
 * class, else its export of that name, else its default export when that is a class.
 */
export function exportedPrototype(moduleExports: unknown, name: string): Record<string, unknown> | undefined {
  const exports = moduleExports as Record<string, unknown> | null | undefined;
  const candidates = typeof exports === 'function' ? [exports] : [exports?.[name], exports?.default];
  const found = candidates.find((candidate) => typeof candidate === 'function') as
    { prototype?: unknown } | undefined;
  const prototype = found?.prototype;
  return prototype && typeof prototype === 'object' ? (prototype as Record<string, unknown>) : undefined;
}

/**
 * An instrumentation's unpatch: takes its wrapper off each of `target`'s `names` that has one
 * (`unwrap` is the instrumentation's own `_unwrap`), leaving the others as they are.
 */
export function unwrapMethods(
  target: Record<string, unknown> | undefined,
  names: readonly string[],
  unwrap: (target: Record<string, unknown>, name: string) => void,
): void {
  if (!target) return;
  for (const name of names) {
    if (isWrapped(target[name])) unwrap(target, name);
  }
}

/**
 * A module's patch for an instrumentation's definition: runs `patch` on the module's exports
 * through `safeExecute` (a shape nobody expected leaves the module as it was and the app
 * running) and returns the exports.
 */
export function guardedPatch(
  where: string,
  patch: (moduleExports: unknown) => void,
): <T>(moduleExports: T) => T {
  return (moduleExports) => {
    safeExecute(where, () => patch(moduleExports), undefined);
    return moduleExports;
  };
}

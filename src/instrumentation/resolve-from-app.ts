import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The file `specifier` resolves to (by `require` resolution) from the app's entry script, else
 * from its working directory: the app's own copy of a package, not this package's. `undefined`
 * when neither resolves it.
 */
export function resolveFromApp(specifier: string): string | undefined {
  for (const base of [process.argv[1], path.join(process.cwd(), 'index.js')]) {
    if (!base) continue;
    try {
      return createRequire(path.resolve(base)).resolve(specifier);
    } catch {
      // Not from here; try the next base.
    }
  }
  return undefined;
}

/**
 * How `@koa/router` (and `koa-router`, the same code under its old name) says which route a
 * request reached, read from the shapes it keeps: each layer's `path` (the template, prefixes
 * included; nested routers are copied into their parent with theirs) and `methods` (empty for
 * `router.use()` middleware); `ctx.matched`, the layers whose path matched; `ctx._matchedRoute`,
 * the path of the last layer the chain reached. Structural types: the router is the app's.
 */

/** A route or middleware layer of a router. */
interface LayerLike {
  path?: unknown;
  methods?: unknown;
}

/** The parts of a Koa context a router fills in. */
export interface RoutedContextLike {
  method?: unknown;
  matched?: unknown;
  _matchedRoute?: unknown;
}

/** The parts of a router the preflight lookup uses. */
export interface KoaRouterLike {
  match(path: string, method: string): { pathAndMethod?: unknown } | undefined;
}

/** A layer's template: its path, or a RegExp path as written (`/^\/files\/.*$/`). */
function templateOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  return undefined;
}

function servesMethod(layer: LayerLike | null | undefined, method: string): boolean {
  const methods = layer?.methods;
  return Array.isArray(methods) && methods.includes(method);
}

/**
 * The template of the route a request reached through the routers it went through: among the
 * matched layers that serve its method (middleware serve none), the one the chain reached
 * last, else the first (a router middleware answered before the route's handler ran). With no
 * such layer (no route for this path and method), `undefined`.
 */
export function reachedRouteOf(ctx: RoutedContextLike): string | undefined {
  const matched = ctx.matched;
  const method = ctx.method;
  if (!Array.isArray(matched) || typeof method !== 'string') return undefined;
  const reached = ctx._matchedRoute;
  let first: string | undefined;
  for (const layer of matched as (LayerLike | null | undefined)[]) {
    if (!servesMethod(layer, method)) continue;
    const template = templateOf(layer?.path);
    if (template === undefined) continue;
    if (layer?.path === reached) return template;
    first ??= template;
  }
  return first;
}

/** The template of `router`'s first route for `method` and `path` (a preflight's question). */
export function routerRouteFor(router: KoaRouterLike, path: string, method: string): string | undefined {
  const layers = router.match(path, method)?.pathAndMethod;
  if (!Array.isArray(layers)) return undefined;
  for (const layer of layers as (LayerLike | null | undefined)[]) {
    if (!servesMethod(layer, method)) continue;
    const template = templateOf(layer?.path);
    if (template !== undefined) return template;
  }
  return undefined;
}

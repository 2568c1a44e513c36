/**
 * The route template of the Express route a request reached, worked out when its response
 * ends from what Express leaves on the request: `req.route` (the route whose handler ran last,
 * which Express never takes back) and `req.app` (the app serving it; `parent` leads from a
 * mounted app to the top one). `req.baseUrl` cannot serve: it holds the mount path as
 * requested (`/orgs/17`), not as written, and Express restores it as an error or `next()`
 * leaves a router.
 *
 * A route's full template is found once by walking the top app's router down to it, through
 * mounted routers and apps, joining the paths they were mounted at (recorded by
 * `ExpressRouteInstrumentation` as `use()` is called; Express 4 keeps none, the `router`
 * package of Express 5 keeps `rawPath`). It is then kept on the route until the app mounts
 * something new (`expressRoutesChanged`). A route reached in several ways (a router mounted at
 * two paths) gets the template of the way whose mount paths match the request's path.
 */

/** A route's templates, as last worked out. */
const TEMPLATES = Symbol('otel-pg-analytics.express-route-templates');
/** The path a layer was mounted at, as `use()` was given it. */
const MOUNT_PATH = Symbol('otel-pg-analytics.express-mount-path');
/** The app a layer mounts (Express wraps a mounted app in a function of its own). */
const MOUNTED_APP = Symbol('otel-pg-analytics.express-mounted-app');

/** Deeper than any app nests routers; guards against a router mounted inside itself. */
const MAX_DEPTH = 16;
/** Ways to one route that are told apart; more are not remembered. */
const MAX_WAYS = 16;

/** Bumped whenever a router or app is mounted: every template worked out before is stale. */
let generation = 0;

/** A layer of an Express router (structural: Express is the app's). */
interface LayerLike {
  route?: unknown;
  handle?: unknown;
  /** The `router` package (Express 5) keeps the path a layer was made for. */
  rawPath?: unknown;
  /** Express 4 and `router` before 2.3: true, with the matched part in `path`; later, the match. */
  match?(path: string): unknown;
  path?: unknown;
  [MOUNT_PATH]?: unknown;
  [MOUNTED_APP]?: unknown;
}

interface RouterLike {
  stack: LayerLike[];
}

interface RouteLike {
  path?: unknown;
  stack: unknown[];
  [TEMPLATES]?: RouteTemplates;
}

export interface AppLike {
  parent?: unknown;
  _router?: unknown;
  router?: unknown;
  lazyrouter?: unknown;
}

/** The parts of an Express request read here. */
export interface ExpressRequestLike {
  route?: unknown;
  app?: unknown;
  originalUrl?: unknown;
  url?: unknown;
}

/** One way from the top router to a route: the layers mounting what it is in, and its own. */
interface Way {
  readonly template: string | undefined;
  readonly mounts: readonly LayerLike[];
  readonly layer: LayerLike;
}

interface RouteTemplates {
  readonly generation: number;
  readonly root: RouterLike;
  /** The template, when every way to the route gives the same one. */
  readonly template: string | undefined;
  /** Else the ways to tell apart by the request's path. */
  readonly ways: readonly Way[] | undefined;
}

/** Notes the path `use()` mounted `layer` at. */
export function noteMountPath(layer: object, path: unknown): void {
  (layer as LayerLike)[MOUNT_PATH] = path;
}

/** Notes that `layer` mounts the Express app `app`. */
export function noteMountedApp(layer: object, app: object): void {
  (layer as LayerLike)[MOUNTED_APP] = app;
}

/** Something was mounted: templates are worked out again as requests reach their routes. */
export function expressRoutesChanged(): void {
  generation++;
}

/**
 * The full template of the route `request` reached (`/api/v1/orgs/:orgId/projects/:projectId`),
 * or `undefined` when it reached none or the route cannot be placed under the app serving it.
 */
export function expressRouteOf(request: ExpressRequestLike): string | undefined {
  const route = request.route as RouteLike | undefined;
  if (!isRoute(route)) return undefined;
  const root = rootRouterOf(request.app);
  if (root === undefined) return undefined;
  let templates = route[TEMPLATES];
  if (templates?.generation !== generation || templates.root !== root) {
    indexRoutes(root);
    templates = route[TEMPLATES];
    if (templates?.generation !== generation || templates.root !== root) {
      templates = { generation, root, template: undefined, ways: undefined };
      keepTemplates(route, templates);
    }
  }
  return templates.ways === undefined ? templates.template : wayOf(templates.ways, request);
}

function isRoute(value: unknown): value is RouteLike {
  return typeof value === 'object' && value !== null && Array.isArray((value as RouteLike).stack);
}

function isRouter(value: unknown): value is RouterLike {
  return (
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    Array.isArray((value as RouterLike).stack)
  );
}

/** An Express app, as Express itself tells one (a router has `handle` too, but no `set`). */
export function isExpressApp(value: unknown): value is AppLike {
  return (
    typeof value === 'function' &&
    typeof (value as { handle?: unknown }).handle === 'function' &&
    typeof (value as { set?: unknown }).set === 'function'
  );
}

/** The router of the top app above `app` (a mounted app's `parent` is the app it is mounted in). */
function rootRouterOf(app: unknown): RouterLike | undefined {
  if (!isExpressApp(app)) return undefined;
  let top = app;
  for (let depth = 0; depth < MAX_DEPTH && isExpressApp(top.parent); depth++) top = top.parent;
  return expressAppRouter(top);
}

/** The router an Express app has, if it made one yet. */
export function expressAppRouter(app: AppLike): RouterLike | undefined {
  // Express 4 keeps its router in `_router` (its `router` getter throws); 5 behind `router`.
  const router = typeof app.lazyrouter === 'function' ? app._router : app.router;
  return isRouter(router) ? router : undefined;
}

/** Works out the templates of every route under `root` and keeps them on the routes. */
function indexRoutes(root: RouterLike): void {
  const found = new Map<RouteLike, Way[]>();
  visit(root, '', [], found, new Set());
  for (const [route, ways] of found) {
    const template = ways[0]!.template;
    const same = ways.every((way) => way.template === template);
    keepTemplates(route, { generation, root, template, ways: same ? undefined : ways });
  }
}

/**
 * Adds the ways to the routes under `router`, whose mount paths so far make `prefix` (no
 * trailing slash; `undefined` when a mount path is unknown).
 */
function visit(
  router: RouterLike,
  prefix: string | undefined,
  mounts: LayerLike[],
  found: Map<RouteLike, Way[]>,
  entered: Set<RouterLike>,
): void {
  if (entered.has(router) || mounts.length >= MAX_DEPTH) return;
  entered.add(router);
  for (const layer of router.stack) {
    const route = layer?.route;
    if (isRoute(route)) {
      const path = formatPath(route.path);
      const template = prefix === undefined || path === undefined ? undefined : routeTemplate(prefix, path);
      let ways = found.get(route);
      if (!ways) found.set(route, (ways = []));
      if (ways.length < MAX_WAYS) ways.push({ template, mounts, layer });
      continue;
    }
    const child = mountedRouterOf(layer);
    if (child === undefined) continue;
    const mountPath = formatPath(layer[MOUNT_PATH] ?? layer.rawPath);
    const childPrefix =
      prefix === undefined || mountPath === undefined ? undefined : mountPrefix(prefix, mountPath);
    visit(child, childPrefix, [...mounts, layer], found, entered);
  }
  entered.delete(router);
}

/** The router a `use()` layer hands requests to: a router itself, or a mounted app's. */
function mountedRouterOf(layer: LayerLike | undefined): RouterLike | undefined {
  if (!layer) return undefined;
  const app = layer[MOUNTED_APP];
  if (app !== undefined) return isExpressApp(app) ? expressAppRouter(app) : undefined;
  return isRouter(layer.handle) ? layer.handle : undefined;
}

function keepTemplates(route: RouteLike, templates: RouteTemplates): void {
  if (!Object.hasOwn(route, TEMPLATES)) {
    Object.defineProperty(route, TEMPLATES, { value: templates, writable: true, configurable: true });
  } else {
    route[TEMPLATES] = templates;
  }
}

/** A path as `use()` or `route()` was given it: arrays joined with commas, regexps as written. */
function formatPath(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp || typeof path === 'number') return String(path);
  if (Array.isArray(path)) {
    const parts = path.map(formatPath);
    return parts.every((part) => part !== undefined) ? parts.join(',') : undefined;
  }
  return undefined;
}

/** The prefix below a router mounted at `path`: `/` adds nothing, nor does a trailing slash. */
function mountPrefix(prefix: string, path: string): string {
  return path === '/' ? prefix : collapseSlashes(prefix + path).replace(/\/+$/, '');
}

/** A route's template below `prefix`: a route at `/` is the prefix itself. */
function routeTemplate(prefix: string, path: string): string {
  if (path === '/' || path === '') return prefix === '' ? '/' : prefix;
  const template = collapseSlashes(prefix + path);
  return template.startsWith('/') || template === '*' ? template : `/${template}`;
}

function collapseSlashes(path: string): string {
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}

/** The template of the first way whose layers match the request's path, as Express would try them. */
function wayOf(ways: readonly Way[], request: ExpressRequestLike): string | undefined {
  const url = typeof request.originalUrl === 'string' ? request.originalUrl : request.url;
  if (typeof url !== 'string') return undefined;
  const end = url.search(/[?#]/);
  const path = end === -1 ? url : url.slice(0, end);
  for (const way of ways) {
    if (wayMatches(way, path)) return way.template;
  }
  return undefined;
}

function wayMatches(way: Way, path: string): boolean {
  let rest = path;
  for (const mount of way.mounts) {
    const matched = matchedPart(mount, rest);
    if (matched === undefined) return false;
    rest = rest.slice(matched.length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  return matchedPart(way.layer, rest) !== undefined;
}

/** The part of `path` a layer matches, as its own `match()` says. */
function matchedPart(layer: LayerLike, path: string): string | undefined {
  if (typeof layer.match !== 'function') return undefined;
  let result: unknown;
  try {
    result = layer.match(path);
  } catch {
    return undefined; // a parameter that does not decode
  }
  if (!result) return undefined;
  const matched = typeof result === 'object' ? (result as { path?: unknown }).path : layer.path;
  return typeof matched === 'string' ? matched : undefined;
}

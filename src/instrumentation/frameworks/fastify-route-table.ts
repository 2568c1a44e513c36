import { safeDecodeURIComponent } from '../../privacy/safe-decode-uri-component.js';

/** The part of a Fastify instance the table needs (Fastify 4.23 and later have it). */
export interface FastifyRouteFinder {
  findRoute?(options: {
    method: string;
    url: string;
  }): { params?: Record<string, string | undefined> } | null;
}

/** Templates kept per Fastify instance; an app with more routes gets no preflight templates past it. */
const MAX_TEMPLATES = 10_000;

/** A template and when it was added (the first added wins when several fit a path). */
interface IndexedTemplate {
  readonly template: string;
  readonly order: number;
}

/** The templates whose leading plain segments are the path to this node, and deeper ones. */
interface PrefixNode {
  readonly templates: IndexedTemplate[];
  readonly children: Map<string, PrefixNode>;
}

/**
 * The route templates of one Fastify instance, by method, as its `onRoute` hook sees them
 * (prefixes included), so that a CORS preflight answered by a catch-all `OPTIONS *` route (as
 * `@fastify/cors` registers) can be recorded under the template of the route it asks about.
 *
 * Fastify matches the path itself (`findRoute`, find-my-way's lookup) but says only which
 * parameters it found, not under which template; the template is the one that, filled with
 * those parameters, gives the path back. Only templates whose leading plain segments (before
 * the first parameter or wildcard) the path starts with can, so each method's templates are
 * kept in a tree of those segments and a lookup tries the few along the path's own.
 */
export class FastifyRouteTable {
  readonly #roots = new Map<string, PrefixNode>();
  readonly #added = new Map<string, Set<string>>();
  #size = 0;

  /** Notes a route (`method` as Fastify's `onRoute` gives it: one method or several). */
  add(method: unknown, url: unknown): void {
    if (typeof url !== 'string') return;
    for (const name of Array.isArray(method) ? method : [method]) {
      if (typeof name !== 'string' || this.#size >= MAX_TEMPLATES) continue;
      const key = name.toUpperCase();
      let added = this.#added.get(key);
      if (!added) this.#added.set(key, (added = new Set()));
      if (added.has(url)) continue;
      added.add(url);
      let node = childOf(this.#roots, key);
      for (const segment of plainSegments(url)) node = childOf(node.children, segment);
      node.templates.push({ template: url, order: this.#size++ });
    }
  }

  /** The template of the route `fastify` serves `method` `url` with, if it has one. */
  templateOf(fastify: FastifyRouteFinder, method: string, url: string): string | undefined {
    const root = this.#roots.get(method.toUpperCase());
    if (!root || typeof fastify.findRoute !== 'function') return undefined;
    const found = fastify.findRoute({ method: method.toUpperCase(), url });
    if (!found) return undefined;
    const params = found.params ?? {};
    const end = url.search(/[?#]/);
    const path = safeDecodeURIComponent(end === -1 ? url : url.slice(0, end));
    const segments = routeSegments(path);
    let best: IndexedTemplate | undefined;
    let node: PrefixNode | undefined = root;
    for (let depth = 0; node; depth++) {
      best = firstFitting(node.templates, params, path, best) ?? best;
      node = depth < segments.length ? node.children.get(segments[depth]!) : undefined;
    }
    return best?.template;
  }
}

/**
 * The first of `templates` (in the order added) that, filled with `params`, gives `path`; one
 * added after `than` is not looked for.
 */
function firstFitting(
  templates: readonly IndexedTemplate[],
  params: Record<string, string | undefined>,
  path: string,
  than?: IndexedTemplate,
): IndexedTemplate | undefined {
  for (const entry of templates) {
    if (than && entry.order > than.order) return undefined;
    const filled = fillTemplate(entry.template, params);
    if (filled !== undefined && sameRoutePath(filled, path)) return entry;
  }
  return undefined;
}

/** The node under `key` in `nodes`, made if there is none yet. */
function childOf(nodes: Map<string, PrefixNode>, key: string): PrefixNode {
  let node = nodes.get(key);
  if (!node) nodes.set(key, (node = { templates: [], children: new Map() }));
  return node;
}

/**
 * A path's segments as routes compare them (one trailing slash aside, as `sameRoutePath`
 * does); none for a path not starting with `/`.
 */
function routeSegments(path: string): string[] {
  const trimmed = path.replace(/\/$/, '');
  return trimmed.startsWith('/') ? trimmed.slice(1).split('/') : [];
}

/**
 * The leading segments of a template that are plain text (before any parameter, wildcard or
 * regex): every path the template fills to starts with them.
 */
function plainSegments(template: string): string[] {
  const segments = routeSegments(template);
  const dynamic = segments.findIndex((segment) => /[:*(]/.test(segment));
  return dynamic === -1 ? segments : segments.slice(0, dynamic);
}

/** Whether two paths are the same route's, a trailing slash aside (as Fastify may be told). */
function sameRoutePath(a: string, b: string): boolean {
  return a === b || a.replace(/\/$/, '') === b.replace(/\/$/, '');
}

/**
 * A find-my-way template with its parameters filled in: `:name` (ending at `/`, `-`, `.` or
 * a `(regex)`, which is dropped), `*`, and `::` for a literal colon. `undefined` when a
 * parameter of the template is not among `params`.
 */
export function fillTemplate(
  template: string,
  params: Record<string, string | undefined>,
): string | undefined {
  let filled = '';
  for (let i = 0; i < template.length; i++) {
    const char = template[i];
    if (char === ':' && template[i + 1] === ':') {
      filled += ':';
      i++;
    } else if (char === ':') {
      let end = i + 1;
      while (end < template.length && !'/-.('.includes(template[end]!)) end++;
      const value = params[template.slice(i + 1, end)];
      if (value === undefined) return undefined;
      filled += value;
      if (template[end] === '(') end = closingParenthesis(template, end) + 1;
      i = end - 1;
    } else if (char === '*') {
      const value = params['*'];
      if (value === undefined) return undefined;
      filled += value;
    } else {
      filled += char;
    }
  }
  return filled;
}

/** Where the parenthesis opened at `open` closes (escaped parentheses skipped). */
function closingParenthesis(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length - 1;
}

import { safeDecodeURIComponent } from '../../internal/safe-decode-uri-component.js';

/** The part of a Fastify instance the table needs (Fastify 4.23 and later have it). */
export interface FastifyRouteFinder {
  findRoute?(options: {
    method: string;
    url: string;
  }): { params?: Record<string, string | undefined> } | null;
}

/** Templates kept per Fastify instance; an app with more routes gets no preflight templates past it. */
const MAX_TEMPLATES = 10_000;

/**
 * The route templates of one Fastify instance, by method, as its `onRoute` hook sees them
 * (prefixes included), so that a CORS preflight answered by a catch-all `OPTIONS *` route (as
 * `@fastify/cors` registers) can be recorded under the template of the route it asks about.
 *
 * Fastify matches the path itself (`findRoute`, find-my-way's lookup) but says only which
 * parameters it found, not under which template; the template is the one that, filled with
 * those parameters, gives the path back.
 */
export class FastifyRouteTable {
  readonly #templates = new Map<string, Set<string>>();
  #size = 0;

  /** Notes a route (`method` as Fastify's `onRoute` gives it: one method or several). */
  add(method: unknown, url: unknown): void {
    if (typeof url !== 'string') return;
    for (const name of Array.isArray(method) ? method : [method]) {
      if (typeof name !== 'string' || this.#size >= MAX_TEMPLATES) continue;
      const key = name.toUpperCase();
      let templates = this.#templates.get(key);
      if (!templates) this.#templates.set(key, (templates = new Set()));
      if (templates.has(url)) continue;
      templates.add(url);
      this.#size++;
    }
  }

  /** The template of the route `fastify` serves `method` `url` with, if it has one. */
  templateOf(fastify: FastifyRouteFinder, method: string, url: string): string | undefined {
    const templates = this.#templates.get(method.toUpperCase());
    if (!templates || typeof fastify.findRoute !== 'function') return undefined;
    const found = fastify.findRoute({ method: method.toUpperCase(), url });
    if (!found) return undefined;
    const params = found.params ?? {};
    const end = url.search(/[?#]/);
    const path = safeDecodeURIComponent(end === -1 ? url : url.slice(0, end));
    for (const template of templates) {
      const filled = fillTemplate(template, params);
      if (filled !== undefined && sameRoutePath(filled, path)) return template;
    }
    return undefined;
  }
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

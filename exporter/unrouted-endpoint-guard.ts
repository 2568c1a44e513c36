/** Limits of an {@link UnroutedEndpointGuard}. */
export interface UnroutedEndpointGuardConfig {
  /** Distinct normalized endpoints stored as they are, per service. Default 32. */
  maxShapes?: number;
  /** Distinct `/first/*` forms used once the shapes are taken, per service. Default 16. */
  maxPrefixes?: number;
  /** Services tracked apart; any further ones share one budget. Default 128. */
  maxServices?: number;
}

/** What every endpoint becomes once a service's shapes and prefixes are all taken. */
export const CATCH_ALL_ENDPOINT = '/*';

interface ServiceBudget {
  readonly shapes: Set<string>;
  readonly prefixes: Set<string>;
}

/**
 * Keeps the number of distinct `endpoint` values of unrouted requests bounded per service,
 * whatever the paths look like. `normalizePath` collapses the shapes it can recognise (ids,
 * dates, emails, slugs, files), but a username, a scanner's random word or a CMS page name is
 * a plain word like a route's own, so no pure function can bound them. This guard remembers
 * the first {@link UnroutedEndpointGuardConfig.maxShapes} shapes each service stores and keeps
 * storing those; a later new shape becomes `/first/*` (its first segment, for the first
 * {@link UnroutedEndpointGuardConfig.maxPrefixes} such prefixes), then `/*`. So a service has at
 * most `maxShapes + maxPrefixes + 2` values (with `/` and `/*`). First come, first kept: the
 * values are stable for the life of the process, and real endpoints, seen early and often,
 * keep their shape; requests answered 404 or 405 never get here (they are `(unmatched)`).
 *
 * State that spans rows, so it lives with the exporter (one per exporter), not in the pure
 * span → row mapping. Memory is bounded: `maxServices + 1` budgets of bounded sets of
 * normalized endpoints, each at most a few hundred characters.
 */
export class UnroutedEndpointGuard {
  readonly #maxShapes: number;
  readonly #maxPrefixes: number;
  readonly #maxServices: number;
  readonly #services = new Map<string | null, ServiceBudget>();
  readonly #overflow: ServiceBudget = { shapes: new Set(), prefixes: new Set() };

  constructor(config: UnroutedEndpointGuardConfig = {}) {
    this.#maxShapes = config.maxShapes ?? 32;
    this.#maxPrefixes = config.maxPrefixes ?? 16;
    this.#maxServices = config.maxServices ?? 128;
  }

  /**
   * The endpoint to store for a normalized `shape` of `service`'s request: the shape itself
   * while the service has room for it (or already stored it), else a coarser form.
   */
  admit(service: string | null, shape: string): string {
    if (shape === '/') return shape;
    const budget = this.#budgetOf(service);
    if (budget.shapes.has(shape)) return shape;
    if (budget.shapes.size < this.#maxShapes) {
      budget.shapes.add(shape);
      return shape;
    }
    const second = shape.indexOf('/', 1);
    if (second === -1) return CATCH_ALL_ENDPOINT;
    const prefix = `${shape.slice(0, second)}/*`;
    if (budget.prefixes.has(prefix)) return prefix;
    if (budget.prefixes.size < this.#maxPrefixes) {
      budget.prefixes.add(prefix);
      return prefix;
    }
    return CATCH_ALL_ENDPOINT;
  }

  #budgetOf(service: string | null): ServiceBudget {
    let budget = this.#services.get(service);
    if (budget) return budget;
    if (this.#services.size >= this.#maxServices) return this.#overflow;
    budget = { shapes: new Set(), prefixes: new Set() };
    this.#services.set(service, budget);
    return budget;
  }
}

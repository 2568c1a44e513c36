/** How a service's calls are priced when the response carries no token usage. */
export type CostModel = 'per_request' | 'per_record' | 'subscription';

/** An external service: which hosts (and paths) it answers on, and how its calls are priced. */
export interface ServiceDefinition {
  /** Stored in `external_api_call_log.service`. */
  name: string;
  /** Hosts, exact or with `*` wildcards, optionally with `:port` (`*.supabase.co`, `127.0.0.1:4010`). */
  hosts: readonly string[];
  /** Only calls whose path starts with this match. */
  pathPrefix?: string;
  /** Only calls whose whole path matches this; `*` stands for one path segment (`/v3/snapshot/*`). */
  pathPattern?: string;
  /** Only calls with one of these HTTP methods match (`['GET']`). */
  methods?: readonly string[];
  /** USD per successful (2xx) call; failed calls cost nothing. */
  perRequestUsd?: number;
  /** USD per record a successful download delivers (the response is counted as it passes). */
  perRecordUsd?: number;
  /** `subscription`: calls are covered by a plan, so their marginal cost is 0. */
  costModel?: CostModel;
  /** OTel `gen_ai.provider.name` for LLM APIs. */
  genAiProvider?: string;
}

/** Built-in services. User definitions are matched first, so they can override these. */
export const DEFAULT_SERVICES: readonly ServiceDefinition[] = Object.freeze([
  { name: 'gemini', hosts: ['generativelanguage.googleapis.com'], genAiProvider: 'gcp.gemini' },
  {
    name: 'vertex_ai',
    hosts: ['aiplatform.googleapis.com', '*-aiplatform.googleapis.com'],
    genAiProvider: 'gcp.vertex_ai',
  },
  { name: 'openai', hosts: ['api.openai.com'], genAiProvider: 'openai' },
  { name: 'anthropic', hosts: ['api.anthropic.com'], genAiProvider: 'anthropic' },
  // Web Unlocker and SERP: $1.50 per 1,000 successful requests (brightdata.com/pricing, 2026-05-25).
  {
    name: 'brightdata',
    hosts: ['api.brightdata.com'],
    pathPrefix: '/request',
    perRequestUsd: 0.0015,
    costModel: 'per_request',
  },
  // Web Scraper API: $1.50 per 1,000 delivered records, charged on the snapshot download or the
  // synchronous scrape; triggering and polling progress cost nothing.
  {
    name: 'brightdata',
    hosts: ['api.brightdata.com'],
    methods: ['GET'],
    pathPattern: '/datasets/v3/snapshot/*',
    perRecordUsd: 0.0015,
    costModel: 'per_record',
  },
  {
    name: 'brightdata',
    hosts: ['api.brightdata.com'],
    methods: ['POST'],
    pathPattern: '/datasets/v3/scrape',
    perRecordUsd: 0.0015,
    costModel: 'per_record',
  },
  { name: 'brightdata', hosts: ['api.brightdata.com', 'brd.superproxy.io'] },
  {
    name: 'supabase',
    hosts: ['*.supabase.co', '*.supabase.in', 'api.supabase.com'],
    perRequestUsd: 0,
    costModel: 'subscription',
  },
]);

interface CompiledService {
  definition: ServiceDefinition;
  patterns: { host: RegExp; port: string | undefined }[];
  path: RegExp | undefined;
  methods: ReadonlySet<string> | undefined;
}

/** Hosts whose candidate services are remembered; past this, the memory starts over. */
const MAX_REMEMBERED_HOSTS = 1024;

/** Maps an outbound call's host, port and path to a {@link ServiceDefinition}. */
export class ServiceCatalog {
  readonly #services: CompiledService[];
  /**
   * The services whose hosts match a `host:port`, in catalog order: an app calls few hosts, and
   * most of its calls go to hosts no service names, which then cost one lookup instead of a
   * test of every host pattern (each call is matched two or three times on its way to a row).
   */
  readonly #candidates = new Map<string, readonly CompiledService[]>();

  /** `services` are tried in order, before the built-in {@link DEFAULT_SERVICES}. */
  constructor(services: readonly ServiceDefinition[] = []) {
    this.#services = [...services, ...DEFAULT_SERVICES].map((definition) => ({
      definition,
      patterns: definition.hosts.map(compileHostPattern),
      path: definition.pathPattern === undefined ? undefined : compilePathPattern(definition.pathPattern),
      methods:
        definition.methods === undefined
          ? undefined
          : new Set(definition.methods.map((method) => method.toUpperCase())),
    }));
  }

  /**
   * The service a call belongs to, or `undefined` for an unknown host. Without a `method`,
   * definitions limited to some methods do not match.
   */
  match(
    host: string,
    port: number | undefined,
    path: string,
    method?: string,
  ): ServiceDefinition | undefined {
    const candidates = this.#candidatesFor(host.toLowerCase(), port === undefined ? undefined : String(port));
    if (candidates.length === 0) return undefined;
    const upperMethod = method?.toUpperCase();
    for (const { definition, path: pathPattern, methods } of candidates) {
      if (definition.pathPrefix !== undefined && !path.startsWith(definition.pathPrefix)) continue;
      if (pathPattern && !pathPattern.test(path)) continue;
      if (methods && (upperMethod === undefined || !methods.has(upperMethod))) continue;
      return definition;
    }
    return undefined;
  }

  #candidatesFor(host: string, port: string | undefined): readonly CompiledService[] {
    const key = port === undefined ? host : `${host} ${port}`;
    let candidates = this.#candidates.get(key);
    if (candidates === undefined) {
      candidates = this.#services.filter(({ patterns }) =>
        patterns.some(
          (pattern) => (pattern.port === undefined || pattern.port === port) && pattern.host.test(host),
        ),
      );
      if (this.#candidates.size >= MAX_REMEMBERED_HOSTS) this.#candidates.clear();
      this.#candidates.set(key, candidates);
    }
    return candidates;
  }
}

function compilePathPattern(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${source}/?$`);
}

function compileHostPattern(pattern: string): { host: RegExp; port: string | undefined } {
  const lower = pattern.trim().toLowerCase();
  const portMatch = /^(.*):(\d+)$/.exec(lower);
  const host = portMatch ? portMatch[1]! : lower;
  const source = host
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[a-z0-9.-]*');
  return { host: new RegExp(`^${source}$`), port: portMatch ? portMatch[2] : undefined };
}

import type { Attributes } from '@opentelemetry/api';
import type { ServiceCatalog } from '../src/pricing/service-catalog.js';
import { attemptTarget, type AttemptTarget } from '../src/processors/enrich-attempt.js';

/**
 * Attempt ancestors of earlier batches remembered: their ids, each with the targets of the
 * attempts below it, shared (about 12 MB at most, measured).
 */
export const MAX_REMEMBERED_ANCESTORS = 50_000;
/** Distinct one-attempt target lists shared by the memory: more hosts than a receiver sees. */
const MAX_SHARED_TARGETS = 1_024;
/**
 * Distinct targets remembered for one ancestor: more hosts than one SDK call reaches. Past it
 * the ancestor is remembered as a caller (no row), as it was before targets were kept.
 */
const MAX_TARGETS = 8;

/** What is remembered of an attempt ancestor that was missing from its attempts' batch. */
export interface MissedAncestor {
  /** The resource identity of the spans that named it as parent. */
  readonly identity: string;
  /**
   * Where the attempts below it went whose nearest caller is still to come (it, or a span
   * above it): that caller is no row only when one of them is its call. Whether they are
   * cannot be told when the ancestor is missed (its attributes are not in the batch), so what
   * they went to is kept, every attempt's, and told against the caller when it comes.
   * `undefined` when a caller was met below it already, so that every CLIENT span from it up
   * is the same call again, no row.
   */
  readonly targets: readonly AttemptTarget[] | undefined;
}

/**
 * The ancestors of attempts that were missing from the attempts' batch, by `traceId/spanId`,
 * oldest first: at most `max`, the oldest forgotten first.
 */
export class MissedAncestors {
  readonly #remembered = new Map<string, MissedAncestor>();
  /**
   * One attempt's target as a list, one per host and provider: most ancestors are remembered
   * for attempts to the same few hosts, so each entry costs a reference, not a list.
   */
  readonly #sharedTargets = new Map<string, readonly AttemptTarget[]>();
  readonly #catalog: ServiceCatalog;
  readonly #max: number;

  constructor(catalog: ServiceCatalog, max: number) {
    this.#catalog = catalog;
    this.#max = max;
  }

  get(key: string): MissedAncestor | undefined {
    return this.#remembered.get(key);
  }

  /** Where one attempt went, as a remembered ancestor's `targets`. */
  targetsOf(attempt: Attributes): readonly AttemptTarget[] {
    const target = attemptTarget(attempt, this.#catalog);
    const key = `${target.host ?? ''} ${target.provider ?? ''}`;
    let shared = this.#sharedTargets.get(key);
    if (shared === undefined) {
      shared = Object.freeze([target]);
      if (this.#sharedTargets.size < MAX_SHARED_TARGETS) this.#sharedTargets.set(key, shared);
    }
    return shared;
  }

  forget(key: string): void {
    this.#remembered.delete(key);
  }

  /** Remembers an ancestor, or adds to what is remembered of it. */
  remember(key: string, missed: MissedAncestor): void {
    const known = this.#remembered.get(key);
    if (known !== undefined) {
      // Attempts of several batches under one caller: any of them may be its call.
      if (known.identity === missed.identity) this.#remembered.set(key, mergeMissed(known, missed));
      return;
    }
    this.#remembered.set(key, missed);
    if (this.#remembered.size > this.#max) {
      this.#remembered.delete(this.#remembered.keys().next().value!);
    }
  }
}

/**
 * Two memories of one ancestor as one: a caller met below it in either wins; targets add up,
 * bounded.
 */
export function mergeMissed(a: MissedAncestor, b: MissedAncestor): MissedAncestor {
  if (a.targets === undefined) return a;
  if (b.targets === undefined) return b;
  const targets = [...a.targets];
  for (const target of b.targets) {
    if (!targets.some((t) => t.host === target.host && t.provider === target.provider)) targets.push(target);
  }
  return { identity: a.identity, targets: targets.length > MAX_TARGETS ? undefined : targets };
}

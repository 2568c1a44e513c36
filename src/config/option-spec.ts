import type { EnvSnapshot } from '../env.js';
import type { ValueKind } from './value-checks.js';

/** One env var an option is read from. */
export interface EnvReader<T> {
  /** The variable whose presence selects this reader. */
  name: string;
  /**
   * Parses the trimmed text (other variables may be consulted): the value, `undefined` when the
   * text is invalid (a warning, then the next source), or `null` when this variable says
   * nothing about the option (`OTEL_SDK_DISABLED=false`), so the next source is used silently.
   */
  parse(raw: string, env: EnvSnapshot): T | undefined | null;
  /** What valid text looks like, when the option's `expected` does not say it (`true or false`). */
  expected?: string;
  /** Other variables `parse` consults, so `readEnv` keeps them. */
  alsoReads?: readonly string[];
  /** Shown after the name in the documentation table: `(ms)`. */
  doc?: string;
}

/** What the documentation table says about an option. */
export interface OptionDoc {
  /** What the option does, one line of markdown. */
  meaning: string;
  /** The default as the docs show it, when showing the value itself would not help (`256 MiB`). */
  default?: string;
}

/**
 * Everything about one option: its type (what `check` returns), its default, the env vars it
 * is read from, how it is validated and how it is documented. The resolved config type, env
 * parsing, validation, defaults and the table in docs/configuration.md all come from these.
 */
export type OptionSpec<T> = ValueKind<T> & {
  env?: readonly EnvReader<T>[];
  /** What happens when an env or file value is invalid; defaults to "using the default". */
  fallback?: string;
  /** Shows a value in messages (for example without its password). */
  display?: (value: unknown) => string;
  doc: OptionDoc;
} & (
    | { default: T | undefined }
    | {
        /** A default that depends on the env, computed only when no source gives a value. */
        defaultFrom: (env: EnvSnapshot) => T;
        /** The variables `defaultFrom` consults, so `readEnv` keeps them. */
        defaultReads: readonly string[];
      }
  );

/** A spec for each option of `C` (the user-facing options type), no more, no fewer. */
export type OptionSpecs<C> = { [K in keyof C]-?: OptionSpec<Exclude<C[K], undefined>> };

/** Arrays come out of resolution copied and frozen. */
type Frozen<T> = T extends readonly (infer E)[] ? readonly E[] : T;
type Checked<S> = S extends { check(value: unknown): infer T } ? Exclude<T, undefined> : never;

/** The value an option resolves to: what its check returns, or `undefined` if that is the default. */
export type ResolvedOption<S> = Frozen<Checked<S>> | (S extends { default: undefined } ? undefined : never);

/** The resolved config a table of specs describes, derived from it. */
export type ResolvedOptions<S> = { readonly [K in keyof S]: ResolvedOption<S[K]> };

/** The default of an option, computing an env-dependent one from `env`. */
export function defaultOf<T>(spec: OptionSpec<T>, env: EnvSnapshot = {}): T | undefined {
  return 'defaultFrom' in spec ? spec.defaultFrom(env) : spec.default;
}

/** Every env var the specs read, alias and consulted ones included. */
export function envNamesOf(specs: Record<string, OptionSpec<unknown>>): string[] {
  const names = Object.values(specs).flatMap((spec) => [
    ...(spec.env ?? []).flatMap((reader) => [reader.name, ...(reader.alsoReads ?? [])]),
    ...('defaultReads' in spec ? spec.defaultReads : []),
  ]);
  return [...new Set(names)];
}
